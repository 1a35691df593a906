using System.Runtime.InteropServices;

namespace MadvPS.Interop;

internal static partial class Libc
{
    internal const int W_OK = 2;
    internal const int AT_EACCESS = 0x200;

    // faccessat(2); with AT_EACCESS glibc 2.33+ uses faccessat2 (Linux 5.8), which checks with the
    // caller's effective credentials (fsuid and effective capabilities), as the kernel's own
    // permission checks do.
    [LibraryImport(Name, EntryPoint = "faccessat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int faccessat_raw(int dirfd, string path, int mode, int flags);

    /// <summary>Whether the calling thread may write the file: failed with EACCES (or another errno) if not.</summary>
    internal static SysResult CheckWriteAccess(string path) =>
        SysResult.FromReturn("faccessat", faccessat_raw(AT_FDCWD, path, W_OK, AT_EACCESS));
}
