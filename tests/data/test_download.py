"""download_url: only a complete file with the right checksum ever gets the final name."""

import hashlib
import io

import pytest

from tinygrad_edu.data import ChecksumError, DownloadError, download_url, file_digest

PAYLOAD = bytes(range(256)) * 5000  # > 1 MB, so it arrives in several chunks
MD5 = hashlib.md5(PAYLOAD).hexdigest()
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


class FakeOpener:
    """Serves `payload`, optionally dying after `fail_after` bytes; records the calls."""

    def __init__(self, payload=PAYLOAD, fail_after=None):
        self.payload, self.fail_after, self.calls = payload, fail_after, []

    def __call__(self, url, timeout=None):
        self.calls.append(url)
        opener = self

        class Response(io.BytesIO):
            def read(self, n=-1):
                if opener.fail_after is not None and self.tell() >= opener.fail_after:
                    raise ConnectionResetError("connection reset by peer")
                return super().read(n)

        return Response(self.payload)


def test_download_with_md5_and_sha256(tmp_path):
    opener = FakeOpener()
    dest = download_url(
        "https://example.org/f.gz",
        tmp_path / "sub" / "f.gz",
        md5=MD5,
        sha256=SHA256.upper(),
        opener=opener,
    )
    assert dest.read_bytes() == PAYLOAD
    assert opener.calls == ["https://example.org/f.gz"]
    assert file_digest(dest) == MD5 and file_digest(dest, "sha256") == SHA256
    assert sorted(p.name for p in dest.parent.iterdir()) == ["f.gz"]


@pytest.mark.parametrize("kind", ["md5", "sha256"])
def test_checksum_mismatch_names_the_file_and_both_checksums(tmp_path, kind):
    wrong = "0" * (32 if kind == "md5" else 64)
    right = MD5 if kind == "md5" else SHA256
    with pytest.raises(ChecksumError) as info:
        download_url(
            "https://example.org/f.gz", tmp_path / "f.gz", opener=FakeOpener(), **{kind: wrong}
        )
    message = str(info.value)
    assert "f.gz" in message and wrong in message and right in message
    assert list(tmp_path.iterdir()) == []  # neither the wrong file nor a temp file


def test_a_dropped_connection_leaves_nothing_behind(tmp_path):
    with pytest.raises(ConnectionResetError):
        download_url(
            "https://example.org/f.gz",
            tmp_path / "f.gz",
            md5=MD5,
            opener=FakeOpener(fail_after=2**20),
        )
    assert list(tmp_path.iterdir()) == []


def test_a_failed_download_keeps_the_previous_file(tmp_path):
    dest = tmp_path / "f.gz"
    dest.write_bytes(b"old but whole")
    with pytest.raises(ConnectionResetError):
        download_url("https://example.org/f.gz", dest, opener=FakeOpener(fail_after=0))
    assert dest.read_bytes() == b"old but whole"
    assert list(tmp_path.iterdir()) == [dest]


def test_a_server_that_never_stops_is_cut_off(tmp_path):
    with pytest.raises(DownloadError, match="more than 1000 bytes"):
        download_url(
            "https://example.org/f.gz", tmp_path / "f.gz", opener=FakeOpener(), max_bytes=1000
        )
    assert list(tmp_path.iterdir()) == []


def test_file_urls_use_the_real_opener(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(PAYLOAD)
    dest = download_url(source.as_uri(), tmp_path / "out" / "copy.bin", md5=MD5)
    assert dest.read_bytes() == PAYLOAD
