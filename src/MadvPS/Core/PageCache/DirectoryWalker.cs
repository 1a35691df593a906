using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Enumeration;

namespace MadvPS.Core;

/// <summary>
/// The files under a directory, depth first, names in ordinal order. Symbolic links are not
/// followed (no loops, no file counted twice), and only entries that are neither directories nor
/// links are handed out: the caller's open refuses special files without opening them.
/// </summary>
internal static class DirectoryWalker
{
    private static readonly EnumerationOptions s_options = new()
    {
        RecurseSubdirectories = false,
        IgnoreInaccessible = false,
        AttributesToSkip = 0,
        ReturnSpecialDirectories = false,
    };

    /// <summary>Yields the path of every entry that is neither a directory nor a link; a directory that cannot be read goes to <paramref name="onError"/> and is skipped.</summary>
    public static IEnumerable<string> Files(string root, Action<string, Exception> onError, Func<bool>? stopping = null)
    {
        var pending = new Stack<string>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            if (stopping?.Invoke() == true)
            {
                yield break;
            }

            string directory = pending.Pop();
            List<(string Path, bool Recurse)>? entries = Read(directory, onError);
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

    private static List<(string, bool)>? Read(string directory, Action<string, Exception> onError)
    {
        try
        {
            var entries = new List<(string, bool)>();
            var enumerable = new FileSystemEnumerable<(string, bool, bool)>(
                directory,
                (ref FileSystemEntry entry) => (entry.ToFullPath(), entry.IsDirectory, (entry.Attributes & FileAttributes.ReparsePoint) != 0),
                s_options);
            foreach ((string path, bool isDirectory, bool isLink) in enumerable)
            {
                if (isLink)
                {
                    continue;
                }

                entries.Add((path, isDirectory));
            }

            return entries;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            onError(directory, e);
            return null;
        }
    }
}
