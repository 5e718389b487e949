"""Execute Discord webhooks."""
from .webhook import DiscordEmbed, DiscordWebhook

__version__ = "1.3.2"
__all__ = ["DiscordWebhook", "DiscordEmbed"]
