"""An HDF5 file is checked as a whole before nn reads anything from it (Keras 3's safe rules).

``check_file`` walks every link from the root without following any that leave the object
graph: an external link (another file), a soft link (nn and Keras never write them; they can
dangle or loop), a dataset with external storage (its bytes live in another file) or a
virtual dataset (mapped from other files) is refused, and so is a file holding more objects
than ``nn.saving.limits.MAX_ENTRIES`` or a dataset declaring more than ``MAX_ARRAY_BYTES``.
Group sizes are read from the group's header before its names are listed; each object is
visited once (hard links that loop are walked once). No attribute and no data is read here.

``file_image`` builds an HDF5 file in memory (h5py's core driver, no backing store) so that a
writer hands finished bytes to ``atomic_write``: a full disk fails the write cleanly, never
inside the HDF5 library. Files carry metadata checksums (``LIBVER``), so a damaged header is
detected by the library instead of parsed.
"""

from __future__ import annotations

import contextlib
import itertools

from . import limits
from .errors import FileFormatError, file_error

LIBVER = ("v108", "v110")
"""The HDF5 format versions nn writes: HDF5 1.8's superblock v2 and object headers v2, which carry
checksums of their metadata, and nothing newer than HDF5 1.10's formats, so any h5py of the last
decade (and Keras 3) reads the files."""

_names = itertools.count()


@contextlib.contextmanager
def file_image():
    """Yield ``(h5, image)``: a writable in-memory HDF5 file, and after the block ``image[0]``
    holds its bytes."""
    import h5py

    image = [None]
    h5 = h5py.File(f"nn-image-{next(_names)}.h5", "w", driver="core", backing_store=False, libver=LIBVER)
    try:
        yield h5, image
        h5.flush()
        image[0] = h5.id.get_file_image()
    finally:
        h5.close()


def check_file(h5, path, what: str) -> None:
    """Refuse ``h5`` (an open h5py File or Group) unless every object in it is a plain group or
    dataset of this file, within the limits. A ``ValueError`` naming ``path`` and the entry."""
    import h5py

    count = 0
    seen = set()
    stack = [h5]
    while stack:
        group = stack.pop()
        where = group.name
        try:
            size = len(group)
        except Exception as error:  # h5py raises many types on damaged headers
            raise file_error(path, f"{what}: {where}", f"could not be read (truncated or corrupt?): {error}") from None
        count += size
        if count > limits.MAX_ENTRIES:
            raise file_error(
                path, what, f"holds more than nn.saving.limits.MAX_ENTRIES = {limits.MAX_ENTRIES:,} objects"
            )
        try:
            names = list(group)
        except Exception as error:
            raise file_error(
                path, f"{what}: {where}", f"could not be listed (truncated or corrupt?): {error}"
            ) from None
        for name in names:
            entry = f"{what}: {where.rstrip('/')}/{name}"
            try:
                link = group.get(name, getlink=True)
                if isinstance(link, (h5py.ExternalLink, h5py.SoftLink)):
                    kind = (
                        "an external link (to another file)" if isinstance(link, h5py.ExternalLink) else "a soft link"
                    )
                    raise file_error(path, entry, f"is {kind}; nn reads only the file's own groups and datasets")
                item = group.get(name)
                if isinstance(item, h5py.Group):
                    key = item.id
                    if key not in seen:
                        seen.add(key)
                        stack.append(item)
                elif isinstance(item, h5py.Dataset):
                    _check_dataset(item, path, entry)
                elif item is not None:
                    raise file_error(path, entry, f"is a {type(item).__name__}; nn reads only groups and datasets")
            except FileFormatError:
                raise
            except Exception as error:
                raise file_error(path, entry, f"could not be read (truncated or corrupt?): {error}") from None


def _check_dataset(dataset, path, entry: str) -> None:
    if dataset.is_virtual:
        raise file_error(path, entry, "is a virtual dataset (mapped from other files); nn refuses it")
    if dataset.external:
        raise file_error(path, entry, "stores its data in another file (external storage); nn refuses it")
    if dataset.dtype.kind in "fiub" or dataset.dtype.kind in "SUO" and dataset.shape == ():
        limits.check_array(path, entry, dataset.shape, dataset.dtype)
        return
    if dataset.dtype.kind in "SUO":
        limits.check_array(path, entry, dataset.shape, "uint64")
        return
    raise file_error(path, entry, f"holds dtype {dataset.dtype}; nn reads numbers")
