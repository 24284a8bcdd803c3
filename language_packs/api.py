"""HTTP routes for the region's languages (`/api/languages`) and Argos packs
(`/api/packs`), plus the LibreTranslate-compatible routes mounted at the root."""

from __future__ import annotations

import os
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile

from cohear import limits as L
from cohear import temporaries
from cohear.auth import User
from cohear.deps import allow, get_store
from cohear.errors import TooLarge
from cohear.schema import BODY, SIGNED_IN, problems
from cohear.store import Store
from language_packs import libretranslate, packs, service
from language_packs.schema import (
    LIBRETRANSLATE_ERROR,
    LanguageOut,
    PackInstalledOut,
    PackOut,
    PackRemovedOut,
)

router = APIRouter(tags=["languages"], responses=SIGNED_IN)
router.include_router(libretranslate.router, responses={
    status: LIBRETRANSLATE_ERROR | {"description": phrase} for status, phrase in (
        (400, "Bad Request"), (401, "Unauthorized"), (403, "Forbidden"),
        (413, "Content Too Large"))})

StoreDep = Annotated[Store, Depends(get_store)]
Reader = Annotated[User, Depends(allow("languages.read"))]
PackReader = Annotated[User, Depends(allow("packs.read"))]
PackManager = Annotated[User, Depends(allow("packs.manage"))]


@router.get("/api/languages", response_model=list[LanguageOut], responses=problems(400))
def list_languages(store: StoreDep, _: Reader,
                   also: Annotated[list[Annotated[str, Query(max_length=35)]] | None,
                                   Query(max_length=50, description="other BCP-47 tags to "
                                         "describe too (e.g. sw)")] = None) -> list[dict]:
    """Every region language (and each tag in `also`) with what this machine can do for
    it: machine translation (installed packs), speech recognition (Whisper), or human
    translation only. A language outside the region's list is never refused."""
    return service.coverage(store, also or ())


@router.get("/api/languages/{tag}", response_model=LanguageOut, responses=problems(400, 404))
def get_language(tag: Annotated[str, Path(max_length=35)], store: StoreDep, _: Reader) -> dict:
    """Any language a BCP-47 tag names; 400 only for a tag that names no language."""
    return service.language(store, tag)


@router.get("/api/packs", response_model=list[PackOut])
def list_packs(store: StoreDep, _: PackReader) -> list[dict]:
    return packs.list_packs(store)


@router.post("/api/packs", status_code=201, response_model=PackInstalledOut,
             responses=problems(*BODY, 409, 422))
def install_pack(file: Annotated[UploadFile, File(description="an .argosmodel file")],
                 store: StoreDep, actor: PackManager,
                 source: Annotated[str | None, Form(description="refuse unless the pack "
                                                                "translates from this tag",
                                                    max_length=L.LANGUAGE_TAG_CHARS)] = None,
                 target: Annotated[str | None, Form(description="refuse unless the pack "
                                                                "translates to this tag",
                                                    max_length=L.LANGUAGE_TAG_CHARS)] = None,
                 ) -> dict:
    """Upload and install one pack (admin). It is verified before it becomes active.
    Packs are often larger than the default request limit: raise
    COHEAR_MAX_REQUEST_BYTES, or install with `cohear packs install FILE`."""
    root = packs.packs_dir(store)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    upload = temporaries.path(store.settings.data_dir, root, "upload")
    try:
        size = 0
        with open(upload, "xb") as out:
            for chunk in iter(lambda: file.file.read(packs.CHUNK), b""):
                size += len(chunk)
                if size > packs.MAX_ARCHIVE_BYTES:
                    raise TooLarge(f"the pack is larger than {packs.MAX_ARCHIVE_BYTES:,} bytes",
                                   fix="check that it is an Argos pack")
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        return packs.install_file(store, upload, actor=actor, expect_source=source,
                                  expect_target=target, label=file.filename or "the upload")
    finally:
        upload.unlink(missing_ok=True)


@router.delete("/api/packs/{name}", response_model=PackRemovedOut, responses=problems(404))
def remove_pack(name: str, store: StoreDep, actor: PackManager) -> dict:
    return packs.remove(store, name, actor=actor)
