using System;
using System.Globalization;
using System.IO;
using MadvPS.Interop;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Core;

/// <summary>
/// Makes the names that the text of smaps cannot tell apart exact, from the kernel:
/// <list type="bullet">
/// <item>a name that decoded a newline: the text escapes a newline as <c>\012</c> and leaves a real
/// backslash raw, so <c>a\012b</c> may be either. PROCMAP_QUERY (Linux 6.11, an ioctl on
/// /proc/PID/maps) answers with the name's bytes.</item>
/// <item>a name that ended in " (deleted)": the kernel appends it to an unlinked file, but a file
/// may be named so. When the whole name is a file with the mapping's device and inode, that file
/// is linked and is the one mapped, so it is not deleted.</item>
/// </list>
/// Other names are exact as read (every byte but the newline is raw). A name that is not UTF-8 is
/// held by <see cref="FileNameBytes"/>: each invalid byte b as U+DC00+b, and written back the same.
/// </summary>
internal sealed class ExactNames : IDisposable
{
    private const string DeletedSuffix = " (deleted)";
    private readonly ProcDirectory _directory;
    private SafeFileHandle? _maps;
    private bool _queryUnavailable;
    private byte[] _name = new byte[4096 + 64];

    public ExactNames(ProcDirectory directory) => _directory = directory;

    /// <summary>Corrects Path and IsDeleted of a mapping read from smaps, where the text was ambiguous.</summary>
    public void Fix(MemoryMapping mapping)
    {
        if (mapping.Path.Contains('\n') && Query(mapping.Start) is string exact)
        {
            bool deleted = exact.EndsWith(DeletedSuffix, StringComparison.Ordinal);
            mapping.Path = deleted ? exact.Substring(0, exact.Length - DeletedSuffix.Length) : exact;
            mapping.IsDeleted = deleted;
        }

        if (mapping.IsDeleted && IsLinkedAs(mapping.Path + DeletedSuffix, mapping))
        {
            mapping.Path += DeletedSuffix;
            mapping.IsDeleted = false;
        }
    }

    // The file at the path is the mapped one: same device and inode (statx, following no name but this).
    private static bool IsLinkedAs(string path, MemoryMapping mapping)
    {
        if (mapping.Inode == 0 || !path.StartsWith('/'))
        {
            return false;
        }

        StatxBuffer stat;
        try
        {
            stat = Libc.Statx(FileNameBytes.ToNulTerminated(path), path);
        }
        catch (LinuxErrorException)
        {
            return false;
        }

        string[] device = mapping.Device.Split(':');
        return stat.Inode == mapping.Inode
            && device.Length == 2
            && uint.TryParse(device[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint major) && major == stat.DevMajor
            && uint.TryParse(device[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint minor) && minor == stat.DevMinor;
    }

    private string? Query(ulong address)
    {
        if (_queryUnavailable)
        {
            return null;
        }

        try
        {
            _maps ??= _directory.OpenHandle("maps");
        }
        catch (LinuxErrorException)
        {
            _queryUnavailable = true;
            return null;
        }

        while (true)
        {
            int errno = Libc.ProcmapQuery(_maps, address, 0, _name, out ProcmapQueryArgs vma).Errno;
            if (errno == (int)Errno.ENAMETOOLONG && _name.Length < 1 << 20)
            {
                _name = new byte[_name.Length * 4];
                continue;
            }

            if (errno != 0)
            {
                // ENOTTY before Linux 6.11 (or ENOSYS where the ioctl is not made): the text stays.
                // ENOENT: the mapping went away since it was read.
                _queryUnavailable = errno is not (int)Errno.ENOENT;
                return null;
            }

            return vma.VmaStart == address ? FileNameBytes.Decode(_name.AsSpan(0, vma.NameLength)) : null;
        }
    }

    public void Dispose() => _maps?.Dispose();
}
