using System;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Interop;

internal static partial class Libc
{
    // <dirent.h> d_type values (the same on every architecture).
    internal const byte DT_UNKNOWN = 0;
    internal const byte DT_DIR = 4;
    internal const byte DT_LNK = 10;

    // struct linux_dirent64 (include/linux/dirent.h): u64 d_ino, s64 d_off, u16 d_reclen,
    // u8 d_type, then the name and its NUL; one layout on every architecture.
    internal const int DirentReclenOffset = 16;
    internal const int DirentTypeOffset = 18;
    internal const int DirentNameOffset = 19;

    // getdents64(2), glibc 2.30: the entries of a directory as the kernel has them, names as bytes
    // (readdir in .NET decodes them to strings, losing the bytes of a name that is not UTF-8).
    [LibraryImport(Name, EntryPoint = "getdents64", SetLastError = true)]
    private static unsafe partial nint getdents64_raw(SafeFileHandle fd, byte* buffer, nuint count);

    /// <summary>
    /// Reads the next directory entries into <paramref name="buffer"/>: the result's value is the
    /// bytes filled, 0 at the end. Each entry is a linux_dirent64 (offsets above).
    /// </summary>
    internal static unsafe SysResult Getdents64(SafeFileHandle directory, Span<byte> buffer)
    {
        fixed (byte* bytes = buffer)
        {
            return SysResult.FromReturn("getdents64", getdents64_raw(directory, bytes, (nuint)buffer.Length));
        }
    }
}
