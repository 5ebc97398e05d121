from claude_usage.cli import main

main()
