"""The `sentforge` command's subcommands, one file each; `sentforge.cli` puts them together."""
