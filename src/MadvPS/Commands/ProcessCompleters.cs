using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Text;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>Completes -Name with the names of the running processes that have memory to show.</summary>
public sealed class ProcessNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        WildcardPattern pattern = CompletionText.Pattern(wordToComplete);
        return RunningProcesses.List()
            .Where(p => pattern.IsMatch(p.Name))
            .GroupBy(p => p.Name, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.OrdinalIgnoreCase)
            .Select(g =>
            {
                var ids = g.Select(p => p.Id).ToList();
                string toolTip = ids.Count == 1 ? $"{g.Key}: process {ids[0]}"
                    : $"{g.Key}: {ids.Count} processes ({string.Join(", ", ids.Take(10))}{(ids.Count > 10 ? ", ..." : "")})";
                return new CompletionResult(CompletionText.Quote(g.Key), g.Key, CompletionResultType.ParameterValue, toolTip);
            })
            .ToList();
    }
}

/// <summary>
/// Completes -Id with the IDs of the running processes that have memory to show, each listed with
/// its name; the tooltip shows its command line. A name typed instead of a number completes to the
/// IDs of the processes of that name.
/// </summary>
public sealed class ProcessIdCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string word = CompletionText.Unquote(wordToComplete ?? "");
        bool byNumber = word.All(char.IsAsciiDigit);
        WildcardPattern pattern = CompletionText.Pattern(word);
        return RunningProcesses.List()
            .Where(p => byNumber ? p.Id.ToString(CultureInfo.InvariantCulture).StartsWith(word, StringComparison.Ordinal) : pattern.IsMatch(p.Name))
            .OrderBy(p => p.Id)
            .Select(p =>
            {
                string id = p.Id.ToString(CultureInfo.InvariantCulture);
                return new CompletionResult(id, $"{id} {p.Name}", CompletionResultType.ParameterValue, $"{p.Name} ({id}): {p.CommandLine}");
            })
            .ToList();
    }
}

/// <summary>The processes of /proc that have an address space (kernel threads have none), read for completion.</summary>
internal static class RunningProcesses
{
    public static List<(int Id, string Name, string CommandLine)> List()
    {
        var found = new List<(int, string, string)>();
        foreach (int id in ProcessLookup.ProcessIds())
        {
            try
            {
                // Kernel threads have an empty command line; so do zombies. Neither has memory to advise.
                byte[] cmdline = File.ReadAllBytes($"/proc/{id}/cmdline");
                if (cmdline.Length == 0 || ProcessStat.TryRead(id) is not ProcessStat stat)
                {
                    continue;
                }

                string commandLine = Encoding.UTF8.GetString(cmdline).TrimEnd('\0').Replace('\0', ' ');
                found.Add((id, ProcessNames.Resolve(id, stat.Command), commandLine));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                // The process exited while it was read: leave it out.
            }
        }

        return found;
    }
}
