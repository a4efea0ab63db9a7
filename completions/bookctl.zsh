
#compdef bookctl

_bookctl_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _BOOKCTL_COMPLETE=complete_zsh bookctl)
}

compdef _bookctl_completion bookctl

