using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Interop;

internal static partial class Libc
{
    // fstatfs(2). struct statfs is 120 bytes on x86_64 and aarch64 and starts with f_type (a long)
    // on both; the buffer is larger so that no layout can overrun it.
    [LibraryImport(Name, EntryPoint = "fstatfs", SetLastError = true)]
    private static unsafe partial int fstatfs_raw(SafeFileHandle fd, long* buffer);

    /// <summary>The filesystem magic number (f_type) of the filesystem an open file lives on.</summary>
    internal static unsafe long FilesystemType(SafeFileHandle fd, string pathForErrors)
    {
        long* buffer = stackalloc long[32];
        if (fstatfs_raw(fd, buffer) != 0)
        {
            throw LinuxErrorException.FromLastError("fstatfs", pathForErrors);
        }

        // f_type is a signed long; magic numbers with the top bit set (hugetlbfs) compare as u32.
        return buffer[0] & 0xffffffffL;
    }
}
