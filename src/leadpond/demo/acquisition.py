"""The demo world's parameterised QR codes: each scene names the channel and campaign it was
made for, as a code made through ``POST /api/v1/wechat/qrcodes`` does, so a follow or a scan
credits that channel (first and last touch, new people per channel on the dashboard)."""

from typing import Any

SCENE_PREFIX = "qrscene_"
# Scene (without the prefix) by its start -> campaign; the channel is the scene itself.
CAMPAIGNS = (
    ("poster_", "wechat-poster"),
    ("booth_", "conference-booths"),
    ("article_", "article-footer"),
    ("community_", "community-groups"),
)


def scene_parts(context: dict[str, Any], scene: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The properties (scene, channel, campaign) and the context (with its UTM campaign) of a
    WeChat event that came through the QR code of ``scene``."""
    bare = scene.removeprefix(SCENE_PREFIX)
    channel = bare.replace("_", "-")[:64]
    campaign = next((name for start, name in CAMPAIGNS if bare.startswith(start)), None)
    properties = {"scene": scene, "channel": channel, "campaign": campaign}
    utm = {"source": "wechat", "medium": "qrcode", "content": bare}
    if campaign:
        utm["name"] = campaign
    return properties, {**context, "campaign": utm}
