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
    public static IEnumerable<ProcessTarget> ByName(PSCmdlet cmdlet, string[] names)
    {
        var patterns = new List<(string Text, WildcardPattern Pattern, bool Matched)>();
        foreach (string name in names)
        {
            patterns.Add((name, WildcardPattern.Get(name, WildcardOptions.IgnoreCase), false));
        }

        var found = new List<ProcessTarget>();
        foreach (int id in ProcessLookup.ProcessIds())
        {
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
                    found.Add(new ProcessTarget(id, stat));
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

        found.Sort((a, b) => a.ProcessId.CompareTo(b.ProcessId));
        return found;
    }

    /// <summary>
    /// The processes a cmdlet's -Id, -Name or -InputObject set names, each with the input to
    /// blame in an error, and whether it was found by name (and so may vanish unreported). A
    /// thread ID is resolved to its process; an ID that no task has is an error here, and the
    /// next input is taken.
    /// </summary>
    public static IEnumerable<(ProcessTarget Target, object Input, bool FoundByName)> Selected(ProcessCommandBase cmdlet)
    {
        switch (cmdlet.ParameterSetName)
        {
            case NameSet:
                foreach (ProcessTarget target in ByName(cmdlet, cmdlet.Name))
                {
                    yield return (target, target.ProcessId, true);
                }

                break;
            case InputObjectSet:
                foreach (Process process in cmdlet.InputObject)
                {
                    if (TryResolve(cmdlet, process.Id, process) is ProcessTarget target)
                    {
                        yield return (target, process, false);
                    }
                }

                break;
            default:
                foreach (int id in cmdlet.Id)
                {
                    if (TryResolve(cmdlet, id, id) is ProcessTarget target)
                    {
                        yield return (target, id, false);
                    }
                }

                break;
        }
    }

    private static ProcessTarget? TryResolve(PSCmdlet cmdlet, int id, object input)
    {
        try
        {
            return ProcessLookup.Resolve(id);
        }
        catch (ProcessAccessException e)
        {
            cmdlet.WriteError(ErrorRecords.ForProcess(e, input));
            return null;
        }
    }
}
