#pragma once
// File paths inside a hub repository. One rule for the server (at commit) and for `pull` (before
// it writes anything), so that a hostile server cannot make `pull` write outside its folder or
// into a git checkout's control files, and one repository never holds two spellings of a name.
//
// A safe path is valid UTF-8, at most 1024 bytes, relative and '/'-separated; it has no control
// character or backslash; every component is 1-255 bytes and is not ".", ".." nor a name some
// file system takes for ".git": ".git" in any letter case, followed by dots or spaces (Windows
// drops them) or by ':' (an NTFS stream), with code points HFS+ ignores (U+200C..U+200F,
// U+202A..U+202E, U+206A..U+206F, U+FEFF) anywhere, or its 8.3 short name "git~1".
// Its canonical form is Unicode NFC: "e" + U+0301 and U+00E9 name the same file.
#include <string>
#include <string_view>

#include "lightvault/util/status.h"

namespace lv::hub {

// The NFC form of a safe path; an error saying what is wrong ("component '.GIT' is reserved")
// otherwise. The error names the path.
Result<std::string> normalize_repo_path(std::string_view path);

}  // namespace lv::hub
