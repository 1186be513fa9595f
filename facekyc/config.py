"""Service configuration, read from FACEKYC_* environment variables (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting has a safe default so `facekyc serve` runs with no configuration."""

    model_config = SettingsConfigDict(env_prefix="FACEKYC_", env_file=None, extra="ignore")

    # --- storage and keys ---
    data_dir: Path = Field(Path("./facekyc-data"), description="Embedded database, key file, retained data.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite under data_dir.")
    master_key: str | None = Field(None, description="Base64 32-byte master key; default: key file in data_dir.")
    keyring_file: Path | None = Field(None, description="Key file path (e.g. a mounted secret off the database "
                                      "host); default data_dir/keyring.json.")
    audit_legacy_until: int | None = Field(None, ge=0, description="With FACEKYC_MASTER_KEY only: last audit seq "
                                           "of the unkeyed pre-0002 chain (a key file records it itself).")

    # --- face engine ---
    fmr_target: float = Field(1e-3, ge=1e-5, le=1e-2, description="Operating point for 1:1 matches.")
    sim_swap_fmr_target: float = Field(1e-4, ge=1e-5, le=1e-2, description="Stricter point for SIM replacement.")
    max_image_pixels: int = Field(40_000_000, description="Decompression-bomb guard.")
    max_upload_bytes: int = Field(15 * 1024 * 1024, description="Largest accepted upload.")
    engine_threads: int = Field(1, ge=1, description="OpenCV threads per engine instance.")
    models: str = Field("sface,dlib", pattern="^(sface,dlib|sface|dlib)$", description="Recognisers of the "
                        "current template configuration: sface,dlib (fused) or one model; templates made by "
                        "another configuration keep being checked with it until re-enrolled.")

    # --- registration policy ---
    max_numbers_per_identity: int = Field(5, ge=1)
    retain_images_days: int = Field(0, ge=0, description="0: no raw face image is ever stored.")
    dedup_fmr_target: float = Field(1e-4, ge=1e-6, le=1e-2)
    review_evidence_max_days: int = Field(30, ge=0, le=365, description="A case sent to review keeps its "
                                          "document and live face crops (encrypted) until decided, at most this "
                                          "many days; 0: keep none.")
    keep_enrolment_crop: bool = Field(False, description="Keep each enrolled subscriber's aligned face crop, "
                                      "encrypted under its data key, so duplicate-face reviews can show it.")

    # --- dedup index ---
    vector_backend: str = Field("flat", pattern="^(flat|compact|milvus)$", description="Face index: flat (exact, "
                                "in process), compact (float16 scan + exact re-rank, in process) or milvus.")
    compact_codec: str = Field("int8", pattern="^(int8|fp16)$", description="compact backend: codes of 1 (int8) "
                               "or 2 (fp16) bytes per value; fp16 scanned faster in bench/bench_dedup.py at 1M.")
    milvus_uri: str | None = Field(None, description="Milvus: a local file path (Milvus Lite, embedded) or "
                                   "http(s)://host:19530 (Milvus Standalone/Distributed).")
    milvus_collection: str = Field("facekyc_faces", pattern="^[A-Za-z_][A-Za-z0-9_]{0,200}$")

    # --- liveness ---
    capture_session_ttl_s: int = Field(120, ge=10, le=900)
    capture_step_ms: int = Field(3000, ge=1500, le=5000, description="How long the kiosk prompts each "
                                 "challenge step; the whole burst must stay within 120 frames.")
    test_fixed_challenge: str | None = Field(
        None, description="TEST ONLY: fixed challenge sequence (comma separated); refused unless test_mode."
    )
    test_mode: bool = Field(False, description="Allows test-only settings; never set in production.")
    passive_backend: str = Field("minifasnet", pattern="^(cues|minifasnet)$", description="Passive PAD "
                                 "detector: minifasnet (default, ONNX shipped in the package) or cues (hand-made).")
    minifasnet_dir: Path | None = Field(None, description="Override only: a folder with other MiniFASNet ONNX files "
                                        "of the shipped names (default: the ones inside the package).")

    # --- api ---
    host: str = "127.0.0.1"
    port: int = 8000
    rate_limit_per_minute: int = Field(120, ge=1)
    face_work_slots: int = Field(4, ge=1, description="Face/liveness requests served at once; one more is "
                                 "answered 503 busy (bounds memory and CPU under load).")
    busy_retry_after_s: int = Field(2, ge=1, description="Retry-After (seconds) sent with 503 busy.")
    malloc_arena_max: int = Field(2, ge=0, description="glibc malloc arenas for the server (0: glibc's default "
                                  "of 8 per core); fewer arenas keep RSS level under load (BENCHMARKS.md).")

    def model_list(self) -> list[str]:
        """The current configuration's recognisers, in template order."""
        return self.models.split(",")

    def resolved_database_url(self) -> str:
        """The configured database URL, or the embedded SQLite file under data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'facekyc.sqlite3').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings (tests build their own Settings instead)."""
    return Settings()
