using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using MadvPS.Interop;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Core;

/// <summary>
/// The files under a directory, depth first, names in ordinal order. Symbolic links are not
/// followed (no loops, no file counted twice), and only entries that are neither directories nor
/// links are handed out: the caller's open refuses special files without opening them. Entries are
/// read with getdents64, so names are the kernel's bytes (<see cref="FileNameBytes"/>), also those
/// that are not UTF-8.
/// </summary>
internal static class DirectoryWalker
{
    /// <summary>Yields the path of every entry that is neither a directory nor a link; a directory that cannot be read goes to <paramref name="onError"/> and is skipped.</summary>
    public static IEnumerable<string> Files(string root, Action<string, Exception> onError, Func<bool>? stopping = null)
    {
        var pending = new Stack<string>();
        pending.Push(root);
        byte[] buffer = new byte[32 * 1024];
        while (pending.Count > 0)
        {
            if (stopping?.Invoke() == true)
            {
                yield break;
            }

            string directory = pending.Pop();
            List<(string Path, bool Recurse)>? entries = Read(directory, buffer, onError);
            if (entries is null)
            {
                continue;
            }

            entries.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
            // Files of this directory first, then its subdirectories in name order.
            for (int i = entries.Count - 1; i >= 0; i--)
            {
                if (entries[i].Recurse)
                {
                    pending.Push(entries[i].Path);
                }
            }

            foreach ((string path, bool recurse) in entries)
            {
                if (!recurse)
                {
                    yield return path;
                }
            }
        }
    }

    private static List<(string, bool)>? Read(string directory, byte[] buffer, Action<string, Exception> onError)
    {
        string prefix = directory.EndsWith('/') ? directory : directory + "/";
        var entries = new List<(string, bool)>();
        try
        {
            foreach ((string name, byte listed) in Entries(directory, buffer))
            {
                string path = prefix + name;
                byte type = listed;
                if (type == Libc.DT_UNKNOWN)
                {
                    // Some filesystems do not fill d_type: ask for the entry itself (lstat).
                    SysResult mode = Libc.LinkMode(FileNameBytes.ToNulTerminated(path));
                    if (mode.Failed)
                    {
                        continue; // gone since it was listed
                    }

                    type = (mode.Value & FileType.Mask) switch
                    {
                        FileType.Directory => Libc.DT_DIR,
                        FileType.SymbolicLink => Libc.DT_LNK,
                        _ => type,
                    };
                }

                if (type != Libc.DT_LNK)
                {
                    entries.Add((path, type == Libc.DT_DIR));
                }
            }

            return entries;
        }
        catch (LinuxErrorException e)
        {
            onError(directory, e.Errno is Errno.EACCES or Errno.EPERM ? new UnauthorizedAccessException(e.Message, e) : new IOException(e.Message, e));
            return null;
        }
        catch (PlatformNotSupportedException e)
        {
            onError(directory, e);
            return null;
        }
    }

    /// <summary>
    /// The names in a directory, in ordinal order, as <see cref="FileNameBytes"/> decodes them:
    /// also those that are not UTF-8, which PowerShell's FileSystem provider does not list. None
    /// when the directory cannot be read.
    /// </summary>
    public static List<string> Names(string directory)
    {
        var names = new List<string>();
        try
        {
            foreach ((string name, _) in Entries(directory))
            {
                names.Add(name);
            }
        }
        catch (Exception e) when (e is LinuxErrorException or PlatformNotSupportedException)
        {
            // The provider's own resolution reports what is wrong with the directory.
        }

        names.Sort(string.CompareOrdinal);
        return names;
    }

    /// <summary>
    /// The names in a directory (but . and ..) as the kernel has them, decoded by
    /// <see cref="FileNameBytes"/>, with their d_type. Throws <see cref="LinuxErrorException"/>.
    /// </summary>
    internal static List<(string Name, byte Type)> Entries(string directory, byte[]? buffer = null)
    {
        buffer ??= new byte[32 * 1024];
        var entries = new List<(string, byte)>();
        using SafeFileHandle handle = Libc.OpenReadOnly(FileNameBytes.ToNulTerminated(directory), directory);
        while (true)
        {
            int filled = (int)Libc.Getdents64(handle, buffer).Check(directory);
            if (filled == 0)
            {
                return entries;
            }

            for (int at = 0; at < filled;)
            {
                ReadOnlySpan<byte> entry = buffer.AsSpan(at, MemoryMarshal.Read<ushort>(buffer.AsSpan(at + Libc.DirentReclenOffset)));
                at += entry.Length;
                ReadOnlySpan<byte> name = entry.Slice(Libc.DirentNameOffset);
                name = name.Slice(0, name.IndexOf((byte)0));
                if (!name.SequenceEqual("."u8) && !name.SequenceEqual(".."u8))
                {
                    entries.Add((FileNameBytes.Decode(name), entry[Libc.DirentTypeOffset]));
                }
            }
        }
    }
}
