"""Settings read from the environment (prefix ``LEADPOND_``) or a ``.env`` file."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEADPOND_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{Path('var/leadpond.db').as_posix()}",
        description="SQLAlchemy URL; sqlite:///path or postgresql+psycopg://user@host/db",
    )
    sqlite_synchronous: str = Field(
        default="FULL", description="FULL survives power loss; NORMAL survives process crashes"
    )
    sqlite_cache_mb: int = Field(
        default=64,
        ge=2,
        le=65536,
        description="SQLite page cache per connection; raise it for worlds of a million people",
    )
    sqlite_mmap_mb: int = Field(
        default=0, ge=0, le=1_048_576, description="SQLite memory-mapped I/O (0: off)"
    )
    host: str = "127.0.0.1"
    port: int = 8000
    pipeline_batch_size: int = Field(default=2500, ge=1, le=50_000)
    pipeline_idle_sleep_s: float = Field(default=0.2, ge=0.0)
    jobs_lease_s: float = Field(
        default=600.0, gt=0.0, description="a running job not heard of for this long is retaken"
    )
    jobs_backoff_s: float = Field(
        default=10.0, ge=0.0, description="wait before a failed job's 2nd attempt, doubling"
    )
    jobs_idle_sleep_s: float = Field(default=1.0, ge=0.0)
    ingest_rate_limit_per_s: float = Field(
        default=0.0, ge=0.0, description="events/s accepted per workspace; 0 disables the limit"
    )
    ingest_rate_burst: int = Field(default=50_000, ge=1)
    cookie_secure: bool | None = Field(
        default=None,
        description="Secure flag on the session cookie; unset: on when the request came over "
        "https (behind a proxy, run uvicorn with --proxy-headers), off on plain http",
    )
    login_attempts_per_account: int = Field(
        default=10, ge=1, description="failed logins per email per minute before 429"
    )
    login_attempts_per_ip: int = Field(
        default=30, ge=1, description="failed logins per client address per minute before 429"
    )
    login_password_checks: int = Field(
        default=2,
        ge=1,
        le=64,
        description="argon2 password checks running at once per process (each ~50 ms, 64 MiB)",
    )
    import_max_upload_bytes: int = Field(
        default=200 * 1024 * 1024, ge=1, description="largest file POST /api/v1/imports accepts"
    )
    import_job_bytes: int = Field(
        default=2 * 1024 * 1024,
        ge=0,
        description="an import file larger than this is imported by a background job (202)",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="where people reach this server: the base of tracking and unsubscribe links",
    )
    channels_backoff_s: float = Field(
        default=30.0, ge=0.0, description="wait before a message's 2nd attempt, doubling"
    )
    channels_lease_s: float = Field(
        default=120.0, gt=0.0, description="a claimed message not heard of for this long lapses"
    )
    channels_batch_size: int = Field(default=500, ge=1, le=50_000)
    channels_sender_process: bool = Field(
        default=True,
        description="email is composed and sent in a process of its own (a second core)",
    )
    channels_idle_sleep_s: float = Field(default=0.5, ge=0.0)
    forms_captcha_verify_url: str | None = Field(
        default=None,
        description="a captcha provider's siteverify URL (reCAPTCHA, hCaptcha and Turnstile "
        "speak the same protocol); forms with captcha on post the widget's token there",
    )
    forms_captcha_secret: str = Field(default="", description="the captcha provider's secret")
    forms_captcha_site_key: str = Field(default="", description="the captcha widget's site key")
    forms_captcha_script_url: str = Field(
        default="", description="the captcha widget's script, loaded by forms with captcha on"
    )
    content_files_dir: Path = Field(
        default=Path("var/content"),
        description="where uploaded content files (PDFs, slides…) are stored on disk",
    )
    content_max_upload_bytes: int = Field(
        default=50 * 1024 * 1024, ge=1, description="largest content file an upload accepts"
    )
    content_s3_bucket: str = Field(
        default="",
        description="an S3 bucket for content files; when set, files go there instead of to "
        "content_files_dir (any S3-compatible store: AWS, MinIO, Ceph, OSS, COS…)",
    )
    content_s3_endpoint_url: str | None = Field(
        default=None, description="the S3-compatible store's URL (empty: AWS S3 itself)"
    )
    content_s3_region: str | None = Field(default=None, description="the bucket's region")
    content_s3_access_key_id: str | None = Field(
        default=None, description="access key (empty: boto3's usual credential chain)"
    )
    content_s3_secret_access_key: str | None = Field(default=None, description="its secret")
    content_s3_prefix: str = Field(
        default="", description="a key prefix for content files inside the bucket"
    )
    badge_font: Path = Field(
        default=Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
        description="a TTF/TTC font with Chinese glyphs for badges (Debian: fonts-wqy-microhei)",
    )


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
