"""Reading and writing: ``.flo`` flow files, MOTChallenge files, video frames."""

from .flo import read_flo, write_flo
from .mot import read_mot, read_seqinfo, write_mot
from .video import iter_frames, read_video, to_frame, write_video

#: The first list holds the user-level names, exported at the top level too
#: (``scratchvision.<name>``); the names added after it are reached through the subpackage.
__all__ = ["read_flo", "write_flo", "read_mot", "write_mot", "read_seqinfo", "iter_frames", "read_video",
           "write_video"]
__all__ += ["to_frame"]
