"""civic-bot: budget democracy for a rural municipality over Telegram and SMS."""
