using System;
using System.Collections.Generic;
using System.Management.Automation;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>A file system path to measure or advise; Explicit when the user named it rather than a wildcard matching it.</summary>
internal readonly record struct FileTarget(string Path, bool Explicit);

/// <summary>
/// Turns -Path (wildcards) and -LiteralPath into file system paths, relative to the PowerShell
/// location. Writes one error per input that names nothing, and goes on.
/// </summary>
internal static class FilePathResolver
{
    /// <summary>
    /// The files one pipeline input names that have not been seen before: paths, or a mapping of
    /// Get-MemoryMapping (by Path, Kind and IsDeleted). A mapping that is not of a file is passed
    /// over; a mapped file that was deleted is an error, once per file however many mappings of it come.
    /// </summary>
    /// <param name="purpose">"measure" or "advise", for the verbose line.</param>
    public static IEnumerable<FileTarget> NewTargets(PSCmdlet cmdlet, string[] paths, bool literal, string? kind, bool isDeleted, HashSet<string> seen, string purpose)
    {
        if (kind is not null && !string.Equals(kind, nameof(MappingKind.File), StringComparison.OrdinalIgnoreCase))
        {
            cmdlet.WriteVerbose($"Passing over a {kind} mapping: only file mappings have a file to {purpose}.");
            yield break;
        }

        if (isDeleted)
        {
            foreach (string path in paths)
            {
                if (seen.Add("\0deleted:" + path))
                {
                    cmdlet.WriteError(FileCacheErrors.MappedFileDeleted(path, path));
                }
            }

            yield break;
        }

        // A mapping's Path is a name the kernel gave, never a pattern: it is taken literally.
        foreach (FileTarget target in Resolve(cmdlet, paths, literal || kind is not null))
        {
            if (seen.Add(target.Path))
            {
                yield return target;
            }
        }
    }

    /// <summary>The files one input names, in order, so that errors and results keep the input's order.</summary>
    public static IEnumerable<FileTarget> Resolve(PSCmdlet cmdlet, string[] paths, bool literal)
    {
        foreach (string path in paths)
        {
            foreach (FileTarget target in ResolveOne(cmdlet, path, literal))
            {
                yield return target;
            }
        }
    }

    private static List<FileTarget> ResolveOne(PSCmdlet cmdlet, string path, bool literal)
    {
        var targets = new List<FileTarget>();
        if (string.IsNullOrEmpty(path))
        {
            cmdlet.WriteError(FileCacheErrors.EmptyPath(path));
            return targets;
        }

        try
        {
            if (literal || !WildcardPattern.ContainsWildcardCharacters(path))
            {
                // An absolute path that names a file as written is taken byte for byte: the
                // provider would read a backslash, which a Linux name may hold, as a separator,
                // and cannot hold a name that is not UTF-8 (the module escapes its bytes).
                string plain = WithoutFileSystemQualifier(path);
                if (plain.StartsWith('/') && CachedFile.Exists(plain))
                {
                    targets.Add(new FileTarget(plain, Explicit: true));
                    return targets;
                }

                AddLiteral(cmdlet, path, targets);
                return targets;
            }

            try
            {
                foreach (string resolved in cmdlet.SessionState.Path.GetResolvedProviderPathFromPSPath(path, out ProviderInfo provider))
                {
                    if (!IsFileSystem(provider))
                    {
                        cmdlet.WriteError(FileCacheErrors.NotFileSystem(path, provider.Name));
                        return targets;
                    }

                    targets.Add(new FileTarget(resolved, Explicit: false));
                }
            }
            catch (Exception e) when (e is ItemNotFoundException or WildcardPatternException)
            {
                // No match, or not a pattern PowerShell can read (a real name may hold '[' alone).
            }

            AddNamesByBytes(cmdlet, path, targets);

            if (targets.Count == 0)
            {
                // A real name with [ ] in it (paths from /proc/PID/maps are literal) that matches
                // nothing as a pattern: take it as written if it exists.
                string plain = WithoutFileSystemQualifier(path);
                string unresolved = plain.StartsWith('/') ? plain : cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
                if (CachedFile.Exists(unresolved))
                {
                    targets.Add(new FileTarget(unresolved, Explicit: true));
                }
                else
                {
                    cmdlet.WriteError(FileCacheErrors.NoMatch(path));
                }
            }
        }
        catch (Exception e) when (e is System.Management.Automation.DriveNotFoundException or ProviderNotFoundException or NotSupportedException or PSArgumentException)
        {
            cmdlet.WriteError(new ErrorRecord(e, "PathInvalid", ErrorCategory.InvalidArgument, path));
        }

        return targets;
    }

    /// <summary>
    /// The provider does not list a name that is not UTF-8 (.NET reads its bytes as U+FFFD, and
    /// the name so read names no file), and lists nothing at all in a directory where such a name
    /// is too long once so read. Where the wildcard is in the last part of the path, the names of
    /// that directory are read by their bytes and matched as the provider matches (ignoring case,
    /// leaving out names that begin with a dot): the ones that are not UTF-8 are added, and all of
    /// them when the provider found nothing.
    /// </summary>
    private static void AddNamesByBytes(PSCmdlet cmdlet, string path, List<FileTarget> targets)
    {
        string plain = WithoutFileSystemQualifier(path);
        int slash = plain.LastIndexOf('/');
        string leaf = plain.Substring(slash + 1);
        string directoryPart = slash < 0 ? "." : slash == 0 ? "/" : plain.Substring(0, slash);
        if (leaf.Length == 0 || WildcardPattern.ContainsWildcardCharacters(directoryPart))
        {
            return;
        }

        string directory;
        WildcardPattern pattern;
        try
        {
            directory = directoryPart.StartsWith('/') ? directoryPart : cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(directoryPart);
            pattern = WildcardPattern.Get(leaf, WildcardOptions.IgnoreCase);
            pattern.IsMatch("");
        }
        catch (Exception e) when (e is WildcardPatternException or ItemNotFoundException or System.Management.Automation.DriveNotFoundException or ProviderNotFoundException or NotSupportedException or PSArgumentException)
        {
            return;
        }

        bool all = targets.Count == 0;
        string prefix = directory.EndsWith('/') ? directory : directory + "/";
        foreach (string name in DirectoryWalker.Names(directory))
        {
            if ((all || FileNameBytes.HasEscapedBytes(name)) && !name.StartsWith('.') && pattern.IsMatch(name))
            {
                targets.Add(new FileTarget(prefix + name, Explicit: false));
            }
        }
    }

    private static void AddLiteral(PSCmdlet cmdlet, string path, List<FileTarget> targets)
    {
        string resolved = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out ProviderInfo provider, out _);
        if (!IsFileSystem(provider))
        {
            cmdlet.WriteError(FileCacheErrors.NotFileSystem(path, provider.Name));
            return;
        }

        targets.Add(new FileTarget(resolved, Explicit: true));
    }

    // PSPath of Get-ChildItem: Microsoft.PowerShell.Core\FileSystem::/path (or FileSystem::/path).
    private static string WithoutFileSystemQualifier(string path)
    {
        int qualifier = path.IndexOf("::", StringComparison.Ordinal);
        if (qualifier > 0 && path.AsSpan(0, qualifier).EndsWith("FileSystem", StringComparison.OrdinalIgnoreCase))
        {
            return path.Substring(qualifier + 2);
        }

        return path;
    }

    private static bool IsFileSystem(ProviderInfo provider) =>
        string.Equals(provider.Name, "FileSystem", StringComparison.OrdinalIgnoreCase);
}
