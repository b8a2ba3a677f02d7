from allo.channels.voice.media import OPUS_BITRATE, asked_opus_bitrate, cap_opus_bitrate

OPUS_WITH_FMTP = (
    "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\n"
    "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
)


def test_the_answer_asks_for_speech_bitrate_on_the_opus_format_line() -> None:
    capped = cap_opus_bitrate(OPUS_WITH_FMTP)
    assert f"a=fmtp:111 minptime=10;useinbandfec=1;maxaveragebitrate={OPUS_BITRATE}" in capped
    assert asked_opus_bitrate(capped) == OPUS_BITRATE
    assert "a=rtpmap:0 PCMU/8000" in capped


def test_a_format_line_is_added_when_opus_has_none() -> None:
    capped = cap_opus_bitrate("v=0\r\na=rtpmap:96 opus/48000/2\r\na=sendrecv\r\n")
    assert "a=rtpmap:96 opus/48000/2\r\na=fmtp:96 maxaveragebitrate=24000\r\n" in capped


def test_an_sdp_without_opus_or_already_capped_is_left_alone() -> None:
    pcmu = "v=0\r\na=rtpmap:0 PCMU/8000\r\n"
    assert cap_opus_bitrate(pcmu) == pcmu
    capped = cap_opus_bitrate(OPUS_WITH_FMTP, 16_000)
    assert cap_opus_bitrate(capped) == capped
    assert asked_opus_bitrate(pcmu) is None
