//! Containers and job images whose Swiss process died before it could remove them (SIGKILL, the
//! OOM killer, a closed terminal that took the editor down): every Docker job's labels name the
//! host and the process that made it, and preparing a new job removes what belongs to a process
//! of this host that no longer runs. A process that still runs (another editor, another
//! `swiss fix`) keeps its containers; so does anything made on another host sharing the engine,
//! and anything without these labels.

use std::collections::HashMap;

use bollard::errors::Error as DockerError;
use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListImagesOptionsBuilder, RemoveContainerOptionsBuilder,
    RemoveImageOptionsBuilder,
};
use bollard::Docker;

use super::docker::MANAGED_LABEL;

/// The label naming the host whose Swiss process made a container or image.
pub const HOST_LABEL: &str = "swiss.host";
/// The label holding that process's id.
pub const PID_LABEL: &str = "swiss.pid";

/// What a sweep removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Swept {
    pub containers: usize,
    pub images: usize,
}

/// The labels that tie a container or image to this process.
pub fn owner_labels() -> [(String, String); 2] {
    [
        (HOST_LABEL.to_owned(), host_name()),
        (PID_LABEL.to_owned(), std::process::id().to_string()),
    ]
}

/// A container or image found by its labels.
#[derive(Debug, Clone)]
pub struct Labelled {
    pub id: String,
    pub labels: HashMap<String, String>,
}

/// Containers, running or not, carrying every label of `labels` (`key=value`).
pub async fn containers(docker: &Docker, labels: &[String]) -> Result<Vec<Labelled>, DockerError> {
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&label_filter(labels))
        .build();
    let containers = docker.list_containers(Some(options)).await?;
    Ok(containers
        .into_iter()
        .filter_map(|c| {
            Some(Labelled {
                id: c.id?,
                labels: c.labels.unwrap_or_default(),
            })
        })
        .collect())
}

/// Images carrying every label of `labels` (`key=value`).
pub async fn images(docker: &Docker, labels: &[String]) -> Result<Vec<Labelled>, DockerError> {
    let options = ListImagesOptionsBuilder::default()
        .all(true)
        .filters(&label_filter(labels))
        .build();
    let images = docker.list_images(Some(options)).await?;
    Ok(images
        .into_iter()
        .map(|i| Labelled {
            id: i.id,
            labels: i.labels,
        })
        .collect())
}

fn label_filter(labels: &[String]) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_owned(), labels.to_vec())])
}

/// Removes this host's Swiss containers and images whose process is gone. Best effort: an engine
/// that refuses a listing or a removal leaves things as they were, and the job goes on.
pub async fn sweep(docker: &Docker) -> Swept {
    let ours = [
        format!("{MANAGED_LABEL}=1"),
        format!("{HOST_LABEL}={}", host_name()),
    ];
    let mut swept = Swept::default();

    match containers(docker, &ours).await {
        Ok(found) => {
            for container in found.into_iter().filter(|c| orphaned(&c.labels)) {
                let options = RemoveContainerOptionsBuilder::default().force(true).build();
                match docker.remove_container(&container.id, Some(options)).await {
                    Ok(()) => swept.containers += 1,
                    Err(e) => {
                        tracing::debug!(container = %container.id, error = %e, "leftover container not removed");
                    }
                }
            }
        }
        Err(e) => tracing::debug!(error = %e, "failed to list leftover containers"),
    }

    // After the containers, which would otherwise hold their images.
    match images(docker, &ours).await {
        Ok(found) => {
            for image in found.into_iter().filter(|i| orphaned(&i.labels)) {
                let options = RemoveImageOptionsBuilder::default().force(true).build();
                match docker.remove_image(&image.id, Some(options), None).await {
                    Ok(_) => swept.images += 1,
                    Err(e) => {
                        tracing::debug!(image = %image.id, error = %e, "leftover image not removed");
                    }
                }
            }
        }
        Err(e) => tracing::debug!(error = %e, "failed to list leftover images"),
    }

    if swept != Swept::default() {
        tracing::info!(
            containers = swept.containers,
            images = swept.images,
            "removed Docker leftovers of Swiss processes that no longer run"
        );
    }
    swept
}

/// Labelled by a process of this host that no longer runs. An unreadable pid counts as running:
/// removing someone's live sandbox is worse than leaving a stale one.
fn orphaned(labels: &HashMap<String, String>) -> bool {
    if labels.get(HOST_LABEL) != Some(&host_name()) {
        return false;
    }
    match labels
        .get(PID_LABEL)
        .and_then(|pid| pid.parse::<i32>().ok())
    {
        Some(pid) if pid > 0 => !process_runs(pid),
        _ => false,
    }
}

fn process_runs(pid: i32) -> bool {
    if u32::try_from(pid).is_ok_and(|pid| pid == std::process::id()) {
        return true;
    }
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    let result = unsafe { libc::kill(pid, 0) };
    // EPERM: it exists, as another user.
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

fn host_name() -> String {
    let mut buffer = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it or fails.
    let result = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    if result != 0 {
        return "unknown".to_owned();
    }
    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    String::from_utf8_lossy(&buffer[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(host: &str, pid: &str) -> HashMap<String, String> {
        HashMap::from([
            (HOST_LABEL.to_owned(), host.to_owned()),
            (PID_LABEL.to_owned(), pid.to_owned()),
        ])
    }

    fn dead_pid() -> i32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        child.wait().unwrap();
        i32::try_from(child.id()).unwrap()
    }

    #[test]
    fn only_a_dead_process_of_this_host_leaves_orphans() {
        let host = host_name();
        assert!(orphaned(&labels(&host, &dead_pid().to_string())));
        assert!(!orphaned(&labels(&host, &std::process::id().to_string())));
        assert!(!orphaned(&labels("another-host", &dead_pid().to_string())));
    }

    #[test]
    fn an_unreadable_owner_counts_as_running() {
        let host = host_name();
        for pid in ["", "0", "-1", "pid", "99999999999"] {
            assert!(!orphaned(&labels(&host, pid)), "pid {pid:?}");
        }
        assert!(!orphaned(&HashMap::new()));
    }

    #[test]
    fn the_owner_labels_name_this_process() {
        let owner: HashMap<String, String> = owner_labels().into_iter().collect();
        assert_eq!(owner[PID_LABEL], std::process::id().to_string());
        assert!(!owner[HOST_LABEL].is_empty());
    }
}
