using System;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Interop;

/// <summary>
/// struct statx (include/uapi/linux/stat.h, Linux 4.11): one layout on every architecture, which is
/// why the module uses it instead of struct stat. Offsets checked against the headers with gcc.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 256)]
internal struct StatxBuffer
{
    [FieldOffset(0)] public uint Mask;
    [FieldOffset(4)] public uint BlockSize;
    [FieldOffset(20)] public uint Uid;
    [FieldOffset(24)] public uint Gid;
    [FieldOffset(28)] public ushort Mode;
    [FieldOffset(32)] public ulong Inode;
    [FieldOffset(40)] public ulong Size;
    [FieldOffset(136)] public uint DevMajor;
    [FieldOffset(140)] public uint DevMinor;
}

internal static partial class Libc
{
    internal const int AT_EMPTY_PATH = 0x1000;
    internal const int AT_SYMLINK_NOFOLLOW = 0x100;
    internal const uint STATX_TYPE = 0x1;
    internal const uint STATX_BASIC_STATS = 0x7ff;

    // statx(2), Linux 4.11; glibc 2.28.
    // The path is bytes, not a string: a Linux name need not be UTF-8.
    [LibraryImport(Name, EntryPoint = "statx", SetLastError = true)]
    private static unsafe partial int statx_path(int dirfd, byte* path, int flags, uint mask, out StatxBuffer buffer);

    [LibraryImport(Name, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statx_fd(SafeFileHandle fd, string empty, int flags, uint mask, out StatxBuffer buffer);

    /// <summary>stat of a path (its bytes and a NUL), following symbolic links.</summary>
    internal static StatxBuffer Statx(ReadOnlySpan<byte> path, string pathForErrors)
    {
        SysResult.FromReturn("statx", StatxPath(path, 0, STATX_BASIC_STATS, out StatxBuffer buffer)).Check(pathForErrors);
        return buffer;
    }

    /// <summary>fstat of an open descriptor.</summary>
    internal static StatxBuffer Statx(SafeFileHandle fd, string pathForErrors)
    {
        SysResult.FromReturn("statx", statx_fd(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, out StatxBuffer buffer)).Check(pathForErrors);
        return buffer;
    }

    /// <summary>The file type and mode bits (st_mode) of the file at <paramref name="path"/>, following links, as the result's value.</summary>
    internal static SysResult StatMode(ReadOnlySpan<byte> path)
    {
        SysResult result = SysResult.FromReturn("statx", StatxPath(path, 0, STATX_TYPE, out StatxBuffer buffer));
        return result.Failed ? result : result with { Value = buffer.Mode };
    }

    /// <summary>As <see cref="StatMode"/>, of the link itself when the path is a symbolic link (lstat).</summary>
    internal static SysResult LinkMode(ReadOnlySpan<byte> path)
    {
        SysResult result = SysResult.FromReturn("statx", StatxPath(path, AT_SYMLINK_NOFOLLOW, STATX_TYPE, out StatxBuffer buffer));
        return result.Failed ? result : result with { Value = buffer.Mode };
    }

    private static unsafe int StatxPath(ReadOnlySpan<byte> path, int flags, uint mask, out StatxBuffer buffer)
    {
        RequireNul(path);
        fixed (byte* bytes = path)
        {
            return statx_path(AT_FDCWD, bytes, flags, mask, out buffer);
        }
    }
}
