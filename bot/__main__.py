"""`python -m bot` is the same as the `civic-bot` console command."""

from bot.cli import main

raise SystemExit(main())
