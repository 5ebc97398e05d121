from claude_usage.entry import main

main()
