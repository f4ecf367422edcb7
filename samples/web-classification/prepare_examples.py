from flowline import tool


@tool
def prepare_examples() -> list:
    """Few-shot examples for the classifier."""
    return [
        {"url": "https://play.google.com/store/apps/details?id=com.spotify.music", "category": "App",
         "evidence": "Both",
         "text_content": "Spotify is a free music and podcast streaming app with millions of songs and albums."},
        {"url": "https://www.youtube.com/channel/UC_x5XG1OV2P6uZZ5FSM9Ttw", "category": "Channel",
         "evidence": "Url",
         "text_content": "The channel for developers: videos, talks and tutorials about developer products."},
        {"url": "https://arxiv.org/abs/2303.04671", "category": "Academic", "evidence": "Text content",
         "text_content": "A paper that introduces a system connecting language models with visual foundation models."},
    ]
