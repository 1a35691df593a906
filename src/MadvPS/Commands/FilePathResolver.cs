using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;

namespace MadvPS.Commands;

/// <summary>A file system path to measure or advise; Explicit when the user named it rather than a wildcard matching it.</summary>
internal readonly record struct FileTarget(string Path, bool Explicit);

/// <summary>
/// Turns -Path (wildcards) and -LiteralPath into file system paths, relative to the PowerShell
/// location. Writes one error per input that names nothing, and goes on.
/// </summary>
internal static class FilePathResolver
{
    public static List<FileTarget> Resolve(PSCmdlet cmdlet, string[] paths, bool literal)
    {
        var targets = new List<FileTarget>();
        foreach (string path in paths)
        {
            if (string.IsNullOrEmpty(path))
            {
                cmdlet.WriteError(FileCacheErrors.EmptyPath(path));
                continue;
            }

            try
            {
                if (literal || !WildcardPattern.ContainsWildcardCharacters(path))
                {
                    AddLiteral(cmdlet, path, targets);
                    continue;
                }

                int before = targets.Count;
                try
                {
                    foreach (string resolved in cmdlet.SessionState.Path.GetResolvedProviderPathFromPSPath(path, out ProviderInfo provider))
                    {
                        if (!IsFileSystem(provider))
                        {
                            cmdlet.WriteError(FileCacheErrors.NotFileSystem(path, provider.Name));
                            break;
                        }

                        targets.Add(new FileTarget(resolved, Explicit: false));
                    }
                }
                catch (ItemNotFoundException)
                {
                }

                if (targets.Count == before)
                {
                    // A real name with [ ] in it (paths from /proc/PID/maps are literal) that matches
                    // nothing as a pattern: take it as written if it exists.
                    string unresolved = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
                    if (File.Exists(unresolved) || Directory.Exists(unresolved))
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
        }

        return targets;
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

    private static bool IsFileSystem(ProviderInfo provider) =>
        string.Equals(provider.Name, "FileSystem", StringComparison.OrdinalIgnoreCase);
}
