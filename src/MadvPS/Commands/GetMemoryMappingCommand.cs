using System;
using System.Collections.Generic;
using System.Management.Automation;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>Reads the mappings of processes from /proc/PID/smaps, or their totals from smaps_rollup.</summary>
[Cmdlet(VerbsCommon.Get, "MemoryMapping", DefaultParameterSetName = ProcessSelector.IdSet)]
[OutputType(typeof(MemoryMapping), ParameterSetName = new[] { ProcessSelector.IdSet, ProcessSelector.NameSet, ProcessSelector.InputObjectSet })]
[OutputType(typeof(ProcessMemory))]
public sealed class GetMemoryMappingCommand : ProcessCommandBase
{
    private WildcardPattern[]? _pathPatterns;

    /// <summary>Only mappings whose path matches one of these wildcard patterns.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Path { get; set; }

    /// <summary>Only the mappings that contain one of these addresses.</summary>
    [Parameter]
    public ulong[]? Address { get; set; }

    [Parameter]
    public MappingKind[]? Kind { get; set; }

    /// <summary>One total per process from smaps_rollup instead of one object per mapping.</summary>
    [Parameter]
    public SwitchParameter Rollup { get; set; }

    protected override void BeginProcessing()
    {
        if (Rollup && (Path is not null || Address is not null || Kind is not null))
        {
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException("-Rollup gives one total per process; it cannot be combined with -Path, -Address or -Kind, which select mappings. Leave out -Rollup to select mappings."),
                "RollupWithMappingFilter", ErrorCategory.InvalidArgument, null));
        }

        if (Path is not null)
        {
            _pathPatterns = Array.ConvertAll(Path, p => WildcardPattern.Get(p, WildcardOptions.None));
        }
    }

    protected override void ProcessRecord()
    {
        foreach ((ProcessTarget process, object input, bool foundByName) in ProcessSelector.Selected(this))
        {
            Read(process, input, foundByName);
        }
    }

    private void Read(ProcessTarget process, object target, bool foundByName = false)
    {
        int processId = process.ProcessId;
        try
        {
            ProcessStat stat = process.Stat;
            string name = ProcessNames.Resolve(processId, stat.Command);
            if (stat.IsZombie)
            {
                throw ProcessLookup.Zombie(stat, name);
            }

            if (stat.IsKernelThread)
            {
                // No address space: nothing to list, as for Get-Process's threads.
                WriteVerbose($"Process {processId} ({name}) is a kernel thread: it has no mappings.");
                return;
            }

            if (process.ThreadId is int thread)
            {
                WriteVerbose($"{thread} is a thread of process {processId} ({name}): the mappings are the process's, which its threads share.");
            }

            if (Rollup)
            {
                if (MappingReader.ReadRollup(stat, name) is ProcessMemory totals)
                {
                    totals.ThreadId = process.ThreadId;
                    WriteObject(totals);
                }

                return;
            }

            foreach (MemoryMapping mapping in MappingReader.ReadMappings(stat, name))
            {
                if (Selected(mapping))
                {
                    mapping.ThreadId = process.ThreadId;
                    WriteObject(mapping);
                }
            }
        }
        catch (ProcessAccessException e) when (foundByName && e.Failure is ProcessAccessFailure.NotFound && ProcessStat.TryRead(processId) is null)
        {
            // Found by name a moment ago and gone before it was read: as with Get-Process, a
            // process that no longer exists is simply not listed.
            WriteVerbose($"Process {processId} exited before its mappings were read.");
        }
        catch (ProcessAccessException e) when (foundByName && e.Failure is ProcessAccessFailure.Zombie)
        {
            WriteVerbose(e.Message);
        }
        catch (ProcessAccessException e)
        {
            WriteError(ErrorRecords.ForProcess(e, target));
        }
        catch (SmapsFormatException e)
        {
            WriteError(ErrorRecords.ForFormat(e, processId));
        }
    }

    private bool Selected(MemoryMapping mapping)
    {
        if (Kind is not null && Array.IndexOf(Kind, mapping.Kind) < 0)
        {
            return false;
        }

        if (Address is not null && !Array.Exists(Address, a => a >= mapping.Start && a < mapping.End))
        {
            return false;
        }

        return _pathPatterns is null || Array.Exists(_pathPatterns, p => p.IsMatch(mapping.Path));
    }
}
