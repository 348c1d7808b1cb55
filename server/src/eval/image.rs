//! `--image-template`: the Docker image an instance is tested in, named from the instance. The
//! SWE-bench images on Docker Hub write the `__` of an instance id as `_1776_` and are lowercase
//! (`swebench/sweb.eval.x86_64.django_1776_django-11099`).

use super::instances::Instance;

pub fn image_for(template: &str, instance: &Instance) -> String {
    template
        .replace("{instance_id}", &instance.instance_id)
        .replace(
            "{instance_id_docker}",
            &instance.instance_id.replace("__", "_1776_").to_lowercase(),
        )
        .replace("{repo}", &instance.repo)
        .replace("{version}", &instance.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled() {
        let instance: Instance = serde_json::from_value(serde_json::json!({
            "instance_id": "django__django-11099",
            "repo": "django/django",
            "base_commit": "abc",
            "problem_statement": "x",
            "version": "3.0",
        }))
        .unwrap();
        assert_eq!(
            image_for(
                "swebench/sweb.eval.x86_64.{instance_id_docker}:latest",
                &instance
            ),
            "swebench/sweb.eval.x86_64.django_1776_django-11099:latest"
        );
        assert_eq!(
            image_for("{repo}:{version}/{instance_id}", &instance),
            "django/django:3.0/django__django-11099"
        );
    }
}
