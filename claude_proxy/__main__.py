from claude_proxy.cli.app import main

main()
