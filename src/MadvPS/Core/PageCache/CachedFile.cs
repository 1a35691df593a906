using System;
using MadvPS.Interop;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Core;

/// <summary>
/// A regular file opened read-only for measuring and advising its page cache. Anything else is
/// refused before it is opened: opening a device can have effects (a watchdog arms, a tape rewinds)
/// and opening a FIFO can block.
/// </summary>
internal sealed class CachedFile : IDisposable
{

    private CachedFile(string path, SafeFileHandle handle, StatxBuffer stat, long filesystemType)
    {
        Path = path;
        Handle = handle;
        Size = (long)stat.Size;
        Inode = stat.Inode;
        DeviceMajor = stat.DevMajor;
        DeviceMinor = stat.DevMinor;
        OwnerUid = stat.Uid;
        FilesystemType = filesystemType;
    }

    public string Path { get; }
    public SafeFileHandle Handle { get; }
    public long Size { get; }
    public ulong Inode { get; }
    public uint DeviceMajor { get; }
    public uint DeviceMinor { get; }
    public uint OwnerUid { get; }
    /// <summary>statfs f_type of the file's filesystem.</summary>
    public long FilesystemType { get; }

    /// <summary>major:minor in hex, as /proc/PID/maps prints a mapping's device.</summary>
    public string Device => $"{DeviceMajor:x2}:{DeviceMinor:x2}";

    /// <summary>
    /// Whether something exists at the path (following symbolic links), asked by the name's bytes
    /// (<see cref="FileNameBytes"/>), so that a name that is not UTF-8 is found, and no other.
    /// </summary>
    public static bool Exists(string path) => !Libc.StatMode(FileNameBytes.ToNulTerminated(path)).Failed;

    /// <summary>
    /// Opens a regular file (following symbolic links) by the bytes of its name
    /// (<see cref="FileNameBytes"/>). Throws <see cref="FileCacheException"/>
    /// for a missing file, a directory, a special file, no read permission or hugetlbfs.
    /// </summary>
    public static CachedFile Open(string path)
    {
        byte[] bytes = FileNameBytes.ToNulTerminated(path);
        StatxBuffer before;
        try
        {
            before = Libc.Statx(bytes, path);
        }
        catch (LinuxErrorException e)
        {
            throw FromErrno(e, path);
        }

        RefuseUnlessRegular(before.Mode, path);

        SafeFileHandle handle;
        try
        {
            handle = Libc.OpenReadOnly(bytes, path);
        }
        catch (LinuxErrorException e)
        {
            throw FromErrno(e, path);
        }
        catch (PlatformNotSupportedException e)
        {
            throw new FileCacheException(FileCacheFailure.PlatformNotSupported, path, 0, e);
        }

        try
        {
            // The path may have been replaced between the two calls: what counts is what was opened.
            StatxBuffer opened = Libc.Statx(handle, path);
            RefuseUnlessRegular(opened.Mode, path);
            long filesystemType = Libc.FilesystemType(handle, path);
            if (FileCacheFacts.IsHugetlbfs(filesystemType))
            {
                throw Hugetlbfs(path);
            }

            return new CachedFile(path, handle, opened, filesystemType);
        }
        catch (Exception e)
        {
            handle.Dispose();
            if (e is LinuxErrorException linux)
            {
                throw FromErrno(linux, path);
            }

            throw;
        }
    }

    public void Dispose() => Handle.Dispose();

    internal static FileCacheException Hugetlbfs(string path) => new(FileCacheFailure.Hugetlbfs, path, (int)Errno.EOPNOTSUPP);

    private static void RefuseUnlessRegular(ushort mode, string path)
    {
        switch (mode & FileType.Mask)
        {
            case FileType.Regular:
                return;
            case FileType.Directory:
                throw new FileCacheException(FileCacheFailure.IsDirectory, path, (int)Errno.EISDIR);
            default:
                throw new FileCacheException(FileCacheFailure.NotRegularFile, path) { FileTypeBits = mode & FileType.Mask };
        }
    }

    private static FileCacheException FromErrno(LinuxErrorException e, string path) => e.Errno switch
    {
        Errno.ENOENT or Errno.ENOTDIR => new FileCacheException(FileCacheFailure.NotFound, path, e.ErrorNumber, e) { SystemCall = e.Syscall },
        Errno.EACCES or Errno.EPERM => new FileCacheException(FileCacheFailure.AccessDenied, path, e.ErrorNumber, e) { SystemCall = e.Syscall },
        _ => new FileCacheException(FileCacheFailure.SystemCallFailed, path, e.ErrorNumber, e) { SystemCall = e.Syscall },
    };
}
