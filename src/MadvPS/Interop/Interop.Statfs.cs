using System;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Interop;

internal static partial class Libc
{
    // struct statfs is 120 bytes on x86_64 and aarch64 and starts with f_type (a long) on every
    // 64-bit architecture; the buffer is larger so that no layout can overrun it.
    private const int StatfsLongs = 32;

    // statfs(2) and fstatfs(2); glibc.
    // The path is bytes, not a string: a Linux name need not be UTF-8.
    [LibraryImport(Name, EntryPoint = "statfs", SetLastError = true)]
    private static unsafe partial int statfs_raw(byte* path, long* buffer);

    [LibraryImport(Name, EntryPoint = "fstatfs", SetLastError = true)]
    private static unsafe partial int fstatfs_raw(SafeFileHandle fd, long* buffer);

    /// <summary>The magic number (f_type) of the filesystem that holds <paramref name="path"/> (its bytes and a NUL), following links, as the result's value.</summary>
    internal static unsafe SysResult FilesystemType(ReadOnlySpan<byte> path)
    {
        RequireNul(path);
        long* buffer = stackalloc long[StatfsLongs];
        int status;
        fixed (byte* bytes = path)
        {
            status = statfs_raw(bytes, buffer);
        }

        SysResult result = SysResult.FromReturn("statfs", status);
        return result.Failed ? result : result with { Value = FilesystemMagicOf(buffer[0]) };
    }

    /// <summary>The magic number (f_type) of the filesystem an open file lives on.</summary>
    internal static unsafe long FilesystemType(SafeFileHandle fd, string pathForErrors)
    {
        long* buffer = stackalloc long[StatfsLongs];
        SysResult.FromReturn("fstatfs", fstatfs_raw(fd, buffer)).Check(pathForErrors);
        return FilesystemMagicOf(buffer[0]);
    }

    // f_type is a signed long; magic numbers with the top bit set (hugetlbfs) compare as u32.
    private static long FilesystemMagicOf(long fType) => fType & 0xffffffffL;
}
