//! Registry client tests (skopeo, podman, docker): in progress.
