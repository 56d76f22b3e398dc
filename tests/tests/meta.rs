//! What every binary says about itself: `--version` with its runtime, `completions SHELL` (one
//! that bash really loads) and `manpage`.

use std::process::Command;

use portline_tests::*;

matrix!(
    version_names_the_runtime,
    completions_load_in_bash,
    manpage_is_roff
);

fn version_names_the_runtime(fe: Frontend) {
    let out = fe.run(&["--version"]);
    let text = stdout_ok(&out, "--version");
    assert_eq!(
        text.trim_end(),
        format!("portline-{} 0.1.0 (runtime: {})", fe.name(), fe.name())
    );
    // Subcommands carry the same version.
    let out = fe.run(&["serve", "http", "--version"]);
    assert!(stdout_ok(&out, "serve http --version").contains("(runtime: "));
}

fn completions_load_in_bash(fe: Frontend) {
    let bin = format!("portline-{}", fe.name());
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = fe.run(&["completions", shell]);
        let script = stdout_ok(&out, &format!("completions {shell}"));
        assert!(script.contains(&bin), "{shell}: {script}");
        assert!(script.contains("serve"), "{shell}");
    }
    let out = fe.run(&["completions", "tcsh"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );

    if !require("bash") {
        return;
    }
    // Load the script, then ask for the completions of `BIN serve ` as bash would.
    let script = format!(
        "source <('{}' completions bash) && \
         COMP_WORDS=({bin} serve '') COMP_CWORD=2 COMP_LINE='{bin} serve ' COMP_POINT=15 && \
         _{} {bin} '' serve && printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        fe.bin().display(),
        bin.replace('-', "__")
    );
    let out = run(Command::new("bash").args(["-c", &script]), PEER_TIMEOUT);
    let words = stdout_ok(&out, "bash completion");
    let words: Vec<&str> = words.lines().collect();
    assert!(
        words.contains(&"http") && words.contains(&"line"),
        "{words:?}"
    );
    // Two subcommands deep: `BIN serve http --ec` completes to `--echo`.
    let script = format!(
        "source <('{}' completions bash) && \
         COMP_WORDS=({bin} serve http --ec) COMP_CWORD=3 && \
         _{} {bin} --ec http && printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        fe.bin().display(),
        bin.replace('-', "__")
    );
    let out = run(Command::new("bash").args(["-c", &script]), PEER_TIMEOUT);
    assert_eq!(stdout_ok(&out, "bash completion").trim(), "--echo");
}

fn manpage_is_roff(fe: Frontend) {
    let out = fe.run(&["manpage"]);
    let page = stdout_ok(&out, "manpage");
    assert!(
        page.contains(&format!(".TH portline-{} 1", fe.name())),
        "{page}"
    );
    for word in ["serve", "get", "completions"] {
        assert!(page.contains(word), "no {word} in the page");
    }
}
