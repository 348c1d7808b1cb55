//! `sandbox.pull`: a host that lacks the image pulls it from its registry before its first run.
//! Off by default: where no registry is reachable a pull only hides a typo behind minutes of
//! waiting, and an image is usually built or loaded where it runs.

use bollard::query_parameters::CreateImageOptionsBuilder;
use bollard::Docker;
use futures::StreamExt;

use super::SandboxError;

/// Pulls `image` unless the engine already has it.
pub async fn pull(docker: &Docker, image: &str) -> Result<(), SandboxError> {
    if docker.inspect_image(image).await.is_ok() {
        return Ok(());
    }
    // Without a tag the engine would pull every tag of the repository.
    let (name, tag) = split_tag(image);
    let options = CreateImageOptionsBuilder::new()
        .from_image(name)
        .tag(tag)
        .build();
    let mut progress = docker.create_image(Some(options), None, None);
    while let Some(step) = progress.next().await {
        step.map_err(|e| {
            SandboxError::Prepare(format!(
                "failed to pull the image `{image}`: {e}; check its name and that the host reaches its registry, or load it there (`docker load`)"
            ))
        })?;
    }
    tracing::info!(%image, "pulled the sandbox image");
    Ok(())
}

/// `name[:tag]` (a digest stays with the name); `latest` when none, as `docker pull` does.
fn split_tag(image: &str) -> (&str, &str) {
    if image.contains('@') {
        return (image, "");
    }
    match image.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, tag),
        _ => (image, "latest"),
    }
}

#[cfg(test)]
mod tests {
    use super::split_tag;

    #[test]
    fn tags_are_split_off_but_not_registry_ports() {
        assert_eq!(split_tag("python:3.11"), ("python", "3.11"));
        assert_eq!(
            split_tag("registry:5000/team/img"),
            ("registry:5000/team/img", "latest")
        );
        assert_eq!(split_tag("img"), ("img", "latest"));
    }
}
