using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Threading;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>
/// Measures which memory of processes is in use: clears their referenced bits
/// (/proc/PID/clear_refs), waits a window, reads what smaps says was referenced since, and
/// repeats; writes one object per mapping, or one per process with -Rollup.
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "MemoryAccess", DefaultParameterSetName = ProcessSelector.IdSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(MemoryAccess))]
[OutputType(typeof(ProcessAccess))]
public sealed class MeasureMemoryAccessCommand : ProcessCommandBase, IAccessObserver, IDisposable
{
    private const string WindowTag = "MadvPS.Window";
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(int Id, object Target)> _targets = new();
    private readonly HashSet<int> _seen = new();
    private string? _activity;
    private string? _lastWindow;

    /// <summary>How long each window lasts: 10s, 500ms, 2m, a number of seconds, or a TimeSpan.</summary>
    [Parameter]
    [DurationTransformation]
    [ArgumentCompleter(typeof(DurationCompleter))]
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many windows, one after the other.</summary>
    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int Samples { get; set; } = 1;

    /// <summary>One working-set estimate per process instead of one object per mapping.</summary>
    [Parameter]
    public SwitchParameter Rollup { get; set; }

    /// <summary>Clear and measure only mappings without a backing file (clear_refs 2).</summary>
    [Parameter]
    public SwitchParameter Anonymous { get; set; }

    /// <summary>Clear and measure only mappings with a backing file, memfds and shared memory included (clear_refs 3).</summary>
    [Parameter]
    public SwitchParameter File { get; set; }

    private MappingSelection Selection => Anonymous ? MappingSelection.Anonymous : File ? MappingSelection.File : MappingSelection.All;

    protected override void BeginProcessing()
    {
        if (Window <= TimeSpan.Zero)
        {
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentOutOfRangeException(nameof(Window), Window, $"-Window must be longer than zero, not {Window}: give how long each window lasts, such as 10s or 500ms. Nothing was cleared."),
                "WindowNotPositive", ErrorCategory.InvalidArgument, Window));
        }

        if (Anonymous && File)
        {
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException("-Anonymous and -File each measure one kind of mapping; leave both out to measure all of them. Nothing was cleared."),
                "AnonymousWithFile", ErrorCategory.InvalidArgument, null));
        }
    }

    protected override void ProcessRecord()
    {
        foreach ((ProcessTarget process, object input, _) in ProcessSelector.Selected(this))
        {
            Add(process.ProcessId, input);
        }
    }

    protected override void EndProcessing()
    {
        var processes = new List<MeasuredProcess>();
        try
        {
            // Every process is opened, and may be refused, before any is cleared.
            foreach ((int id, object target) in _targets)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }

                MeasuredProcess? process = Open(id, target);
                if (process is null)
                {
                    continue;
                }

                // In the list before ShouldProcess, which throws when the pipeline stops: the finally disposes it.
                processes.Add(process);
                string action = $"Clear the referenced bits of its {Selection} mappings (clear_refs {ClearRefs.ValueFor(Selection)}) at the start of each of {Samples} window(s) of {Window}";
                if (!ShouldProcess($"process {id} ({process.Name})", action))
                {
                    processes.Remove(process);
                    process.Dispose();
                }
            }

            if (processes.Count == 0)
            {
                return;
            }

            WriteVerbose($"Measuring {processes.Count} process(es): {Samples} window(s) of {Window}, clear_refs {ClearRefs.ValueFor(Selection)}.");
            _activity = $"Measuring the memory access of {processes.Count} process(es)";
            if (!AccessSession.Run(processes, Window, Samples, _stop.Token, this))
            {
                // Stopped (Ctrl+C): PowerShell accepts no more output from a stopping command, so
                // the measurement just ends; the completed windows were written to the
                // information stream as they ended.
                return;
            }

            WriteProgress(new ProgressRecord(1, _activity, "Done") { RecordType = ProgressRecordType.Completed });

            foreach (MeasuredProcess process in processes)
            {
                if (Rollup)
                {
                    // A kernel thread has no address space: nothing, as Get-MemoryMapping -Rollup gives.
                    if (process.HasAddressSpace)
                    {
                        WriteObject(process.Tracker.Totals(process.Stat, process.Name, process.BootId, Selection, Window));
                    }

                    continue;
                }

                foreach (MemoryAccess mapping in process.Tracker.Mappings(Selection, Window))
                {
                    WriteObject(mapping);
                }
            }
        }
        finally
        {
            // Only here, on the pipeline thread: StopProcessing never closes a descriptor that a
            // clear or a read might be using.
            foreach (MeasuredProcess process in processes)
            {
                process.Dispose();
            }
        }
    }

    protected override void StopProcessing()
    {
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The command has already finished.
        }
    }

    public void Dispose() => _stop.Dispose();

    void IAccessObserver.Waiting(int window, TimeSpan elapsed)
    {
        if (_activity is null)
        {
            return;
        }

        // A new record each time: hosts and Streams.Progress keep the records they are given.
        double total = Window.TotalSeconds * Samples;
        double done = Window.TotalSeconds * window + Math.Min(elapsed.TotalSeconds, Window.TotalSeconds);
        WriteProgress(new ProgressRecord(1, _activity, $"Window {window + 1} of {Samples}: {Math.Min(elapsed.TotalSeconds, Window.TotalSeconds):0.#} s of {Window.TotalSeconds:0.###} s")
        {
            CurrentOperation = _lastWindow,
            PercentComplete = (int)Math.Min(99, 100 * done / total),
            SecondsRemaining = (int)Math.Min(int.MaxValue, Math.Ceiling(Math.Max(0, total - done))),
        });
    }

    void IAccessObserver.WindowCompleted(int window, IReadOnlyList<MeasuredProcess> processes)
    {
        long referenced = 0;
        long rss = 0;
        foreach (MeasuredProcess process in processes)
        {
            ProcessAccess sofar = process.Tracker.Totals(process.Stat, process.Name, process.BootId, Selection, Window);
            referenced += sofar.ReferencedBytes[^1];
            rss += sofar.Rss;
            WriteInformation(new InformationRecord(sofar, MyInvocation.MyCommand.Name) { Tags = { WindowTag } });
            WriteVerbose($"Window {window + 1} of {Samples}: process {process.ProcessId} ({process.Name}) referenced {Display.Bytes(sofar.ReferencedBytes[^1])} of {Display.Bytes(sofar.Rss)} resident.");
        }

        _lastWindow = $"Window {window + 1}: {Display.Bytes(referenced)} referenced of {Display.Bytes(rss)} resident";
    }

    void IAccessObserver.Failed(MeasuredProcess process, Exception error)
    {
        ErrorRecord record = error switch
        {
            ProcessAccessException e => ErrorRecords.ForProcess(e, TargetOf(process.ProcessId)),
            SmapsFormatException e => ErrorRecords.ForFormat(e, process.ProcessId),
            _ when KernelError.TryGet(error, out int errno) => new ErrorRecord(
                new InvalidOperationException($"Measuring process {process.ProcessId} ({process.Name}) failed: {FailureText.Of(error)} Nothing is written for it.", error),
                "MeasurementFailed", ErrorRecords.CategoryOf(errno), TargetOf(process.ProcessId)),
            _ => new ErrorRecord(
                new InvalidOperationException($"Measuring process {process.ProcessId} ({process.Name}) failed: {FailureText.Of(error)} Nothing is written for it.", error),
                "MeasurementFailed", ErrorCategory.ReadError, TargetOf(process.ProcessId)),
        };
        WriteError(record);
    }

    private void Add(int id, object target)
    {
        if (_seen.Add(id))
        {
            _targets.Add((id, target));
        }
    }

    private object TargetOf(int id) => _targets.Find(t => t.Id == id).Target ?? id;

    private MeasuredProcess? Open(int id, object target)
    {
        try
        {
            return MeasuredProcess.Open(id, Selection, perMapping: !Rollup);
        }
        catch (ProcessAccessException e)
        {
            WriteError(ErrorRecords.ForProcess(e, target));
        }
        catch (ClearRefsDeniedException e)
        {
            WriteError(ErrorRecords.ForClearRefs(e, target));
        }
        catch (Exception e) when (KernelError.TryGet(e, out int errno))
        {
            WriteError(new ErrorRecord(
                new InvalidOperationException($"Process {id} cannot be measured: {FailureText.Of(e)}", e),
                "MeasurementFailed", ErrorRecords.CategoryOf(errno), target));
        }

        return null;
    }
}
