using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Management.Automation;
using System.Threading;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>
/// Reclaims the cold memory of processes in a closed loop: each step measures what stayed idle
/// over a window, advises a bounded amount of it, and reads what came back before the next.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "MemoryReclaim", DefaultParameterSetName = ProcessSelector.IdSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ReclaimResult))]
[OutputType(typeof(ReclaimStep))]
public sealed class InvokeMemoryReclaimCommand : ProcessCommandBase, IReclaimObserver, IDisposable
{
    private const string StepTag = "MadvPS.ReclaimStep";
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(int Id, object Target, bool FoundByName)> _targets = new();
    private readonly HashSet<int> _seen = new();
    private readonly Dictionary<int, long> _out = new();
    private string? _activity;
    private string _status = "";
    private double _lastPressure;
    private ReclaimSettings? _settings;

    /// <summary>How long the loop runs at most: 10s, 1m, a number of seconds, or a TimeSpan.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan Duration { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long each step's idle window lasts.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The most resident bytes advised per second, over all processes.</summary>
    [Parameter]
    [ValidateRange(4096, long.MaxValue)]
    public long MaxBytesPerSecond { get; set; } = 64L << 20;

    /// <summary>Percent of a step's wall time during which some task stalled on memory (PSI some) above which the loop stops.</summary>
    [Parameter]
    [ValidateRange(0.0, 100.0)]
    public double MaxPressure { get; set; } = 10;

    /// <summary>PageOut (reclaim now) or Cold (deactivate: reclaimed first when the kernel needs memory).</summary>
    [Parameter]
    [ValidateSet(nameof(MemoryAdvice.PageOut), nameof(MemoryAdvice.Cold), IgnoreCase = true)]
    public MemoryAdvice Advice { get; set; } = MemoryAdvice.PageOut;

    /// <summary>The size of the pieces of a mapping that the loop learns about on their own.</summary>
    [Parameter]
    [ValidateRange(4096, 1L << 30)]
    public long ChunkSize { get; set; } = 2L << 20;

    /// <summary>Writes the per-step records to the output instead of the information stream.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void BeginProcessing()
    {
        if (Window <= TimeSpan.Zero || Duration <= TimeSpan.Zero)
        {
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentOutOfRangeException(Window <= TimeSpan.Zero ? nameof(Window) : nameof(Duration),
                    $"-Window ({Window}) and -Duration ({Duration}) must be longer than zero: give them as 5s, 500ms or 10m. Nothing was cleared or advised."),
                "DurationNotPositive", ErrorCategory.InvalidArgument, Window <= TimeSpan.Zero ? Window : Duration));
        }

        if (ChunkSize % Environment.SystemPageSize != 0)
        {
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException($"-ChunkSize {ChunkSize} is not a multiple of the page size ({Environment.SystemPageSize}); give 2MB, 512KB or another page multiple. Nothing was cleared or advised."),
                "ChunkSizeNotPageMultiple", ErrorCategory.InvalidArgument, ChunkSize));
        }
    }

    protected override void ProcessRecord()
    {
        foreach ((ProcessTarget process, object target, bool byName) in ProcessSelector.Selected(this))
        {
            int id = process.ProcessId;
            if (_seen.Add(id))
            {
                _targets.Add((id, target, byName));
            }
        }
    }

    protected override void EndProcessing()
    {
        var settings = new ReclaimSettings
        {
            Advice = Advice,
            Window = Window,
            Duration = Duration,
            MaxBytesPerSecond = MaxBytesPerSecond,
            MaxPressure = MaxPressure,
            ChunkSize = ChunkSize,
            SwapAvailable = KernelInfo.SwapFree > 0,
        };
        _settings = settings;
        var targets = new List<ReclaimTarget>();
        try
        {
            // Every process is opened, and may be refused, before any is cleared or advised.
            foreach ((int id, object target, bool byName) in _targets)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }

                ReclaimTarget? opened = Open(id, target, byName, settings);
                if (opened is null)
                {
                    continue;
                }

                // In the list before ShouldProcess, which throws when the pipeline stops: the finally disposes it.
                targets.Add(opened);
                if (!ShouldProcess($"process {id} ({opened.Name})", ReclaimText.Plan(ReclaimPlan.Preview(opened, settings), settings)) || !Probe(opened, id, target))
                {
                    targets.Remove(opened);
                    opened.Dispose();
                }
            }

            if (targets.Count == 0)
            {
                return;
            }

            if (!settings.SwapAvailable)
            {
                WriteWarning("No swap has room: anonymous memory (and memfds, shared and System V memory) is left alone; only file-backed memory is reclaimed. Add swap (swapon) to reclaim anonymous memory.");
            }

            if (PressureSignal.ReadSomeTotal() is null)
            {
                WriteWarning($"{PressureSignal.Path} cannot be read (a kernel without PSI, or booted with psi=0): memory pressure is not measured and -MaxPressure never stops the loop.");
            }

            _activity = $"Reclaiming the cold memory of {targets.Count} process(es) with {Advice}";
            WriteVerbose($"{_activity}: windows of {Window}, at most {Display.Bytes(MaxBytesPerSecond)}/s, chunks of {Display.Bytes(ChunkSize)}, stop above {MaxPressure:0.##}% memory pressure or after {Duration}.");
            var clock = Stopwatch.StartNew();
            if (!ReclaimLoop.Run(targets, settings, _stop.Token, this, out double peak))
            {
                // Stopped (Ctrl+C): PowerShell takes no more output from a stopping command; the
                // steps done so far are on the information stream (or the output, with -PassThru).
                return;
            }

            WriteProgress(new ProgressRecord(1, _activity, "Done") { RecordType = ProgressRecordType.Completed });
            foreach (ReclaimTarget target in targets)
            {
                if (!target.HasFailed)
                {
                    ReclaimResult result = target.Result(peak, clock.Elapsed);
                    result.StopDetail = target.StopNote is ReclaimNote stop ? ReclaimText.Note(stop, settings) : "";
                    WriteObject(result);
                }
            }
        }
        finally
        {
            // Only here, on the pipeline thread: StopProcessing never closes a descriptor in use.
            foreach (ReclaimTarget target in targets)
            {
                target.Dispose();
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

    void IReclaimObserver.Waiting(int step, TimeSpan elapsed)
    {
        if (_activity is null || _stop.IsCancellationRequested)
        {
            return;
        }

        long bytesOut = 0;
        foreach (long b in _out.Values)
        {
            bytesOut += b;
        }

        // A new record each time: hosts keep the records they are given.
        WriteProgress(new ProgressRecord(1, _activity,
            $"Step {step}: window {Math.Min(elapsed.TotalSeconds, Window.TotalSeconds):0.#} s of {Window.TotalSeconds:0.###} s; {Display.Bytes(bytesOut)} out; pressure {_lastPressure:0.##}%")
        {
            CurrentOperation = _status,
        });
    }

    void IReclaimObserver.StepCompleted(ReclaimTarget target, ReclaimStep step, ReclaimNote note)
    {
        step.Detail = ReclaimText.Note(note, _settings!);
        _out[target.ProcessId] = step.BytesOut;
        _lastPressure = step.Pressure;
        _status = $"Step {step.Step}: process {step.ProcessId} ({step.ProcessName}) {step.Action}, {Display.Bytes(step.BytesAdvised)} advised, {Display.Bytes(step.BytesRefaulted)} back";
        WriteVerbose($"{_status}. {step.Detail}");
        if (PassThru)
        {
            WriteObject(step);
        }
        else
        {
            WriteInformation(new InformationRecord(step, MyInvocation.MyCommand.Name) { Tags = { StepTag } });
        }
    }

    void IReclaimObserver.Failed(ReclaimTarget target, Exception error)
    {
        object blame = _targets.Find(t => t.Id == target.ProcessId).Target ?? target.ProcessId;
        WriteError(error switch
        {
            ProcessAccessException e => ErrorRecords.ForProcess(e, blame),
            ProcessAdviceException e => ErrorRecords.ForWholeCall(e, Advice, target.ProcessId, blame),
            SmapsFormatException e => ErrorRecords.ForFormat(e, target.ProcessId),
            _ => new ErrorRecord(
                new InvalidOperationException($"Reclaiming process {target.ProcessId} ({target.Name}) failed: {FailureText.Of(error)} Nothing more is advised for it.", error),
                "ReclaimFailed", ErrorCategory.ReadError, blame),
        });
    }

    void IReclaimObserver.CallMade(ReclaimTarget target, AdviceCall call) =>
        WriteDebug($"process_madvise({target.ProcessId}, {call.Ranges} range(s), {Display.Bytes(call.BytesRequested)}, {Advice}) = {call.Result}{(call.Errno != 0 ? " " + KernelError.NameOf(call.Errno) : "")}");

    private bool Probe(ReclaimTarget opened, int id, object target)
    {
        try
        {
            opened.ProbeAdvice();
            return true;
        }
        catch (ProcessAccessException e)
        {
            WriteError(ErrorRecords.ForProcess(e, target));
        }
        catch (ProcessAdviceException e)
        {
            WriteError(ErrorRecords.ForWholeCall(e, Advice, id, target));
        }

        return false;
    }

    private ReclaimTarget? Open(int id, object target, bool foundByName, ReclaimSettings settings)
    {
        try
        {
            return ReclaimTarget.Open(id, settings);
        }
        catch (ProcessAccessException e) when (foundByName && e.Failure is ProcessAccessFailure.NotFound or ProcessAccessFailure.Exited)
        {
            WriteVerbose($"Process {id} exited before the reclaim started.");
        }
        catch (ProcessAccessException e)
        {
            WriteError(ErrorRecords.ForProcess(e, target));
        }
        catch (ProcessAdviceException e)
        {
            WriteError(ErrorRecords.ForWholeCall(e, Advice, id, target));
        }
        catch (NoAddressSpaceException e)
        {
            // As Get-MemoryMapping -Rollup and Measure-MemoryAccess give nothing for a kernel thread.
            WriteVerbose(FailureText.Of(e));
        }
        catch (ClearRefsDeniedException e)
        {
            WriteError(ErrorRecords.ForClearRefs(e, target));
        }
        catch (Exception e) when (KernelError.TryGet(e, out int errno))
        {
            WriteError(new ErrorRecord(
                new InvalidOperationException($"Process {id} cannot be reclaimed: {FailureText.Of(e)}", e),
                "ReclaimFailed", ErrorRecords.CategoryOf(errno), target));
        }

        return null;
    }
}
