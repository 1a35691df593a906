using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Management.Automation;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>Resolves -Id, -Name and -InputObject to the processes they mean, as Get-Process would.</summary>
internal static class ProcessSelector
{
    public const string IdSet = "Id";
    public const string NameSet = "Name";
    public const string InputObjectSet = "InputObject";

    /// <summary>Every process whose name matches one of the patterns; an error per plain name with no match.</summary>
    public static IEnumerable<(int Id, string Name)> ByName(PSCmdlet cmdlet, string[] names)
    {
        var patterns = new List<(string Text, WildcardPattern Pattern, bool Matched)>();
        foreach (string name in names)
        {
            patterns.Add((name, WildcardPattern.Get(name, WildcardOptions.IgnoreCase), false));
        }

        var found = new List<(int, string)>();
        foreach (string directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out int id))
            {
                continue;
            }

            if (ProcessStat.TryRead(id) is not ProcessStat stat)
            {
                continue;
            }

            string processName = ProcessNames.Resolve(id, stat.Command);
            for (int i = 0; i < patterns.Count; i++)
            {
                if (patterns[i].Pattern.IsMatch(processName))
                {
                    patterns[i] = (patterns[i].Text, patterns[i].Pattern, true);
                    found.Add((id, processName));
                    break;
                }
            }
        }

        foreach ((string text, _, bool matched) in patterns)
        {
            if (!matched && !WildcardPattern.ContainsWildcardCharacters(text))
            {
                cmdlet.WriteError(new ErrorRecord(
                    new ItemNotFoundException($"No process has the name '{text}'. Check it with Get-Process."),
                    "ProcessNameNotFound", ErrorCategory.ObjectNotFound, text));
            }
        }

        found.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return found;
    }

    /// <summary>
    /// The processes a cmdlet's -Id, -Name or -InputObject set names, each with the input to
    /// blame in an error, and whether it was found by name (and so may vanish unreported).
    /// </summary>
    public static IEnumerable<(int Id, object Target, bool FoundByName)> Selected(PSCmdlet cmdlet, int[] ids, string[] names, Process[] processes)
    {
        switch (cmdlet.ParameterSetName)
        {
            case NameSet:
                foreach ((int id, _) in ByName(cmdlet, names))
                {
                    yield return (id, id, true);
                }

                break;
            case InputObjectSet:
                foreach (Process process in processes)
                {
                    yield return (process.Id, process, false);
                }

                break;
            default:
                foreach (int id in ids)
                {
                    yield return (id, id, false);
                }

                break;
        }
    }
}
