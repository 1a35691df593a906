using System.Collections.Generic;
using MadvPS.Interop;

namespace MadvPS.Core;

/// <summary>
/// Where a file holds data: lseek SEEK_DATA / SEEK_HOLE (Linux 3.1; ext4, xfs, btrfs, tmpfs and
/// others answer exactly). A hole reads as zeros that no disk holds, so reading it into the cache
/// fills memory with nothing: WillNeed reads the data only.
/// </summary>
internal static class FileExtents
{
    /// <summary>
    /// The data extents in [<paramref name="offset"/>, <paramref name="end"/>), in order. A file
    /// system without SEEK_DATA support answers as if the whole file were data (the kernel's
    /// generic_file_llseek does so), and so does this.
    /// </summary>
    public static List<(long Start, long Length)> Data(CachedFile file, long offset, long end)
    {
        var extents = new List<(long Start, long Length)>();
        long at = offset;
        while (at < end)
        {
            long data;
            try
            {
                data = Libc.Lseek(file.Handle, at, Libc.SEEK_DATA, file.Path);
            }
            catch (LinuxErrorException e) when (e.Errno == Errno.EINVAL)
            {
                extents.Add((at, end - at));
                break;
            }

            if (data < 0 || data >= end)
            {
                break;
            }

            long hole = Libc.Lseek(file.Handle, data, Libc.SEEK_HOLE, file.Path);
            if (hole < 0 || hole > end)
            {
                hole = end;
            }

            extents.Add((data, hole - data));
            at = hole;
        }

        return extents;
    }

    public static long Bytes(List<(long Start, long Length)> extents)
    {
        long total = 0;
        foreach ((_, long length) in extents)
        {
            total += length;
        }

        return total;
    }
}
