using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Threading;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>Reads the mappings of processes from /proc/PID/smaps, or their totals from smaps_rollup.</summary>
[Cmdlet(VerbsCommon.Get, "MemoryMapping", DefaultParameterSetName = ProcessSelector.IdSet)]
[OutputType(typeof(MemoryMapping), ParameterSetName = new[] { ProcessSelector.IdSet, ProcessSelector.NameSet, ProcessSelector.InputObjectSet })]
[OutputType(typeof(ProcessMemory))]
public sealed class GetMemoryMappingCommand : ProcessCommandBase, IDisposable
{
    private WildcardPattern[]? _pathPatterns;
    private OrderedWindow<object>? _window;

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
            // Processes are read a few at a time (one per CPU) and written in the order listed: the
            // window fills, then its oldest is written while the others read on.
            _window ??= new OrderedWindow<object>(Environment.ProcessorCount);
            _window.Add((emit, alone, cancel) => Read(process, input, foundByName, emit, alone, cancel));
            while (_window.IsFull)
            {
                _window.ConsumeOldest(Write);
            }
        }
    }

    protected override void EndProcessing()
    {
        _window?.ConsumeAll(Write);
    }

    public void Dispose()
    {
        _window?.Dispose();
    }

    // On the pipeline thread, in order.
    private void Write(object item)
    {
        switch (item)
        {
            case MemoryMapping mapping:
                if (Selected(mapping))
                {
                    WriteObject(mapping);
                }

                break;
            case ReadFailure { Error: ProcessAccessException e } failure
                when failure.FoundByName && e.Failure is ProcessAccessFailure.NotFound && ProcessStat.TryRead(e.ProcessId) is null:
                // Found by name a moment ago and gone before it was read: as with Get-Process, a
                // process that no longer exists is simply not listed.
                WriteVerbose($"Process {e.ProcessId} exited before its mappings were read.");
                break;
            case ReadFailure { Error: ProcessAccessException { Failure: ProcessAccessFailure.Zombie } e } failure when failure.FoundByName:
                WriteVerbose(FailureText.Of(e));
                break;
            case ReadFailure { Error: ProcessAccessException e } failure:
                WriteError(ErrorRecords.ForProcess(e, failure.Target));
                break;
            case ReadFailure { Error: SmapsFormatException e } failure:
                WriteError(ErrorRecords.ForFormat(e, failure.ProcessId));
                break;
            case VerboseNote note:
                WriteVerbose(note.Text);
                break;
            default:
                WriteObject(item);
                break;
        }
    }

    // Reads one process into emit: its mappings or its rollup, then a failure if it ends in one.
    // Runs on the pipeline thread (writing straight out) or on a worker of the window. Read-ahead
    // only when it reads alone: with other processes in flight the cores are busy already.
    private void Read(ProcessTarget process, object target, bool foundByName, Action<object> emit, bool alone, CancellationToken cancel)
    {
        int processId = process.ProcessId;
        try
        {
            ProcessStat stat = process.Stat;
            // Every file of the process is read through one directory bound to it (not to its PID).
            using ProcDirectory directory = ProcDirectory.Open(stat);
            string name = ProcessNames.Resolve(directory, stat.Command);
            if (stat.IsZombie)
            {
                throw ProcessLookup.Zombie(stat, name);
            }

            if (stat.IsKernelThread)
            {
                // No address space: nothing to list, as for Get-Process's threads.
                emit(new VerboseNote($"Process {processId} ({name}) is a kernel thread: it has no mappings."));
                return;
            }

            if (process.ThreadId is int thread)
            {
                emit(new VerboseNote($"{thread} is a thread of process {processId} ({name}): the mappings are the process's, which its threads share."));
            }

            if (Rollup)
            {
                if (MappingReader.ReadRollup(directory, stat, name) is ProcessMemory totals)
                {
                    ProcessDetails.Fill(totals, directory);
                    totals.ThreadId = process.ThreadId;
                    emit(totals);
                }

                return;
            }

            foreach (MemoryMapping mapping in MappingReader.ReadMappings(directory, stat, name, readAhead: alone))
            {
                mapping.ThreadId = process.ThreadId;
                emit(mapping);
            }
        }
        catch (Exception e) when (e is ProcessAccessException or SmapsFormatException)
        {
            emit(new ReadFailure(e, processId, target, foundByName));
        }
    }

    private sealed record ReadFailure(Exception Error, int ProcessId, object Target, bool FoundByName);

    // Verbose text from a reader: PowerShell takes it on the pipeline thread only, so it travels in order with the rest.
    private sealed record VerboseNote(string Text);

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
