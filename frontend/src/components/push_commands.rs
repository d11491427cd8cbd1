//! How to push to a project: the docker, podman and skopeo commands, each with a copy button (Harbor's
//! "PUSH COMMAND" panel). The registry's address is the console's own (`window.location.host`); when the
//! console is served over plain http the registry is too, so the commands that would insist on TLS say not to.

use leptos::prelude::*;

use super::copy_button::CopyButton;

/// One command and what it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushCommand {
    /// What the command does, e.g. "Tag an image for this project".
    pub purpose: &'static str,
    /// The command line.
    pub text: String,
}

/// The commands of one client tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCommands {
    /// The tool's name as shown, e.g. "Docker".
    pub tool: &'static str,
    pub commands: Vec<PushCommand>,
}

/// The push commands for `project` on the registry at `host` (`name[:port]`). `plain_http` adds the flags
/// podman and skopeo need to talk to a registry without TLS (docker decides that in its daemon's
/// `insecure-registries`; it treats 127.0.0.1 as insecure by itself).
pub fn push_commands(host: &str, project: &str, plain_http: bool) -> Vec<ToolCommands> {
    let target = format!("{host}/{project}/REPOSITORY");
    let tls = if plain_http {
        " --tls-verify=false"
    } else {
        ""
    };
    let dest_tls = if plain_http {
        " --dest-tls-verify=false"
    } else {
        ""
    };
    let command = |purpose, text: String| PushCommand { purpose, text };
    vec![
        ToolCommands {
            tool: "Docker",
            commands: vec![
                command("Sign in to the registry", format!("docker login {host}")),
                command(
                    "Tag an image for this project",
                    format!("docker tag SOURCE_IMAGE[:TAG] {target}[:TAG]"),
                ),
                command(
                    "Push an image to this project",
                    format!("docker push {target}[:TAG]"),
                ),
            ],
        },
        ToolCommands {
            tool: "Podman",
            commands: vec![
                command(
                    "Sign in to the registry",
                    format!("podman login{tls} {host}"),
                ),
                command(
                    "Tag an image for this project",
                    format!("podman tag SOURCE_IMAGE[:TAG] {target}[:TAG]"),
                ),
                command(
                    "Push an image to this project",
                    format!("podman push{tls} {target}[:TAG]"),
                ),
            ],
        },
        ToolCommands {
            tool: "Skopeo",
            commands: vec![
                command(
                    "Sign in to the registry",
                    format!("skopeo login{tls} {host}"),
                ),
                command(
                    "Copy an image from the local Docker daemon to this project",
                    format!(
                        "skopeo copy{dest_tls} docker-daemon:SOURCE_IMAGE:TAG docker://{target}:TAG"
                    ),
                ),
            ],
        },
    ]
}

/// The registry's address as the browser reached the console, and whether that was over plain http.
pub fn browser_registry() -> (String, bool) {
    let location = web_sys::window().map(|w| w.location());
    let host = location
        .as_ref()
        .and_then(|l| l.host().ok())
        .unwrap_or_default();
    let plain_http = location
        .as_ref()
        .and_then(|l| l.protocol().ok())
        .is_some_and(|p| p == "http:");
    (host, plain_http)
}

/// The push commands for `project`, grouped by tool, each with a copy button.
#[component]
pub fn PushCommands(#[prop(into)] project: Signal<String>) -> impl IntoView {
    let (host, plain_http) = browser_registry();
    let groups = move || {
        let host = host.clone();
        push_commands(&host, &project.get(), plain_http)
            .into_iter()
            .map(|group| {
                let tool = group.tool;
                let commands = group
                    .commands
                    .into_iter()
                    .map(|c| {
                        let verb = c
                            .text
                            .split_whitespace()
                            .take(2)
                            .collect::<Vec<_>>()
                            .join(" ");
                        let copy_label = format!("Copy the {verb} command");
                        let text = c.text.clone();
                        view! {
                            <li class="push-command">
                                <span class="push-purpose">{c.purpose}</span>
                                <div class="push-line">
                                    <code>{c.text}</code>
                                    <CopyButton text=text label=copy_label/>
                                </div>
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <section class="push-tool" data-tool=tool.to_ascii_lowercase()>
                        <h3>{tool}</h3>
                        <ul>{commands}</ul>
                    </section>
                }
            })
            .collect_view()
    };
    view! {
        <div class="push-commands">
            {groups}
            {plain_http.then(|| view! {
                <p class="hint">
                    "This registry is served over plain http, without TLS: podman and skopeo need "
                    <code>"--tls-verify=false"</code> " (" <code>"--dest-tls-verify=false"</code>
                    " for skopeo copy), and docker needs the registry in its daemon's "
                    <code>"insecure-registries"</code> " unless it is on 127.0.0.1."
                </p>
            })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(groups: &[ToolCommands], tool: &str) -> Vec<String> {
        groups
            .iter()
            .find(|g| g.tool == tool)
            .map(|g| g.commands.iter().map(|c| c.text.clone()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn docker_commands_name_host_and_project_as_harbor_does() {
        let groups = push_commands("registry.example.com", "team", false);
        assert_eq!(
            lines(&groups, "Docker"),
            [
                "docker login registry.example.com",
                "docker tag SOURCE_IMAGE[:TAG] registry.example.com/team/REPOSITORY[:TAG]",
                "docker push registry.example.com/team/REPOSITORY[:TAG]",
            ]
        );
    }

    #[test]
    fn podman_and_skopeo_over_tls_need_no_flags() {
        let groups = push_commands("reg:8443", "apps", false);
        assert_eq!(
            lines(&groups, "Podman"),
            [
                "podman login reg:8443",
                "podman tag SOURCE_IMAGE[:TAG] reg:8443/apps/REPOSITORY[:TAG]",
                "podman push reg:8443/apps/REPOSITORY[:TAG]",
            ]
        );
        assert_eq!(
            lines(&groups, "Skopeo"),
            [
                "skopeo login reg:8443",
                "skopeo copy docker-daemon:SOURCE_IMAGE:TAG docker://reg:8443/apps/REPOSITORY:TAG",
            ]
        );
    }

    #[test]
    fn plain_http_turns_tls_verification_off_where_the_tool_needs_it() {
        let groups = push_commands("127.0.0.1:5000", "apps", true);
        assert_eq!(
            lines(&groups, "Skopeo")[1],
            "skopeo copy --dest-tls-verify=false docker-daemon:SOURCE_IMAGE:TAG docker://127.0.0.1:5000/apps/REPOSITORY:TAG"
        );
        assert_eq!(
            lines(&groups, "Podman")[2],
            "podman push --tls-verify=false 127.0.0.1:5000/apps/REPOSITORY[:TAG]"
        );
        // Docker has no such flag: its daemon decides.
        assert_eq!(
            lines(&groups, "Docker")[2],
            "docker push 127.0.0.1:5000/apps/REPOSITORY[:TAG]"
        );
    }
}
