using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

/// <summary>
/// Tests that start processes and map memory in this process run on their own, so that tests
/// which compare this process's smaps with its maps do not see mappings come and go.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessChurnCollection
{
    public const string Name = "Starts processes and maps memory";
}

/// <summary>clear_refs, the /proc directory held open, and the measurement loop, against real processes.</summary>
[Collection(ProcessChurnCollection.Name)]
public class MeasurementTests
{
    private sealed class Observer : IAccessObserver
    {
        public int Waits;
        public readonly List<int> Completed = new();
        public readonly List<(int ProcessId, Exception Error)> Failures = new();
        public Action? OnWait;

        public void Waiting(int window, TimeSpan elapsed)
        {
            Waits++;
            OnWait?.Invoke();
        }

        public void WindowCompleted(int window, IReadOnlyList<MeasuredProcess> processes) => Completed.Add(window);

        public void Failed(MeasuredProcess process, Exception error) => Failures.Add((process.ProcessId, error));
    }

    private static Process Sleeper() => Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;

    [Theory]
    [InlineData(MappingSelection.All, 1)]
    [InlineData(MappingSelection.Anonymous, 2)]
    [InlineData(MappingSelection.File, 3)]
    public void EachSelectionWritesItsClearRefsValue(MappingSelection selection, int value)
    {
        Assert.Equal(value, ClearRefs.ValueFor(selection));
    }

    [Theory]
    [InlineData(MappingSelection.All, MappingKind.Anonymous, VmFlags.Read, true)]
    [InlineData(MappingSelection.All, MappingKind.File, VmFlags.Read, true)]
    [InlineData(MappingSelection.All, MappingKind.Anonymous, VmFlags.Read | VmFlags.PfnMap, false)]
    [InlineData(MappingSelection.All, MappingKind.SharedMemory, VmFlags.Read | VmFlags.HugeTlb, false)]
    [InlineData(MappingSelection.All, MappingKind.Vvar, VmFlags.Read, false)]
    [InlineData(MappingSelection.All, MappingKind.Vsyscall, VmFlags.Read, false)]
    [InlineData(MappingSelection.Anonymous, MappingKind.Heap, VmFlags.Read, true)]
    [InlineData(MappingSelection.Anonymous, MappingKind.NamedAnonymous, VmFlags.Read, true)]
    [InlineData(MappingSelection.Anonymous, MappingKind.Memfd, VmFlags.Read, false)]
    [InlineData(MappingSelection.Anonymous, MappingKind.File, VmFlags.Read, false)]
    [InlineData(MappingSelection.File, MappingKind.Memfd, VmFlags.Read, true)]
    [InlineData(MappingSelection.File, MappingKind.SharedMemory, VmFlags.Read, true)]
    [InlineData(MappingSelection.File, MappingKind.Stack, VmFlags.Read, false)]
    public void OnlyMappingsWhoseBitsAreClearedAreMeasured(MappingSelection selection, MappingKind kind, VmFlags flags, bool measured)
    {
        Assert.Equal(measured, ClearRefs.Measures(selection, kind, flags));
    }

    [Fact]
    public void ClearingDropsReferencedAndTouchingBringsItBack()
    {
        // This process: 8 MiB of its own, touched, cleared, read, touched again.
        const int size = 8 << 20;
        byte[] block = GC.AllocateUninitializedArray<byte>(size, pinned: true);
        Array.Fill(block, (byte)1);
        using MeasuredProcess self = MeasuredProcess.Open(Environment.ProcessId, MappingSelection.Anonymous, perMapping: true);
        self.Clear();
        self.Sample();
        unsafe
        {
            fixed (byte* p = block)
            {
                ulong start = (ulong)p;
                long ReferencedOfBlock() => self.Tracker.Mappings(MappingSelection.Anonymous, TimeSpan.FromSeconds(1))
                    .Where(m => m.Start < start + size && m.End > start).Sum(m => m.Referenced);

                long cleared = ReferencedOfBlock();
                self.Clear();
                long sum = 0;
                for (int i = 0; i < size; i += 4096) sum += block[i];
                self.Sample();
                long touched = ReferencedOfBlock();
                Assert.True(touched >= size, $"touched: {touched}");
                Assert.True(cleared < size / 2, $"cleared: {cleared}");
                Assert.Equal(size / 4096, sum);
            }
        }
    }

    [Fact]
    public void AProcessThatIsReapedCanNoLongerBeClearedOrRead()
    {
        using Process sleeper = Sleeper();
        using MeasuredProcess measured = MeasuredProcess.Open(sleeper.Id, MappingSelection.All, perMapping: true);
        measured.Clear();
        measured.Sample();
        Assert.Equal(1, measured.Tracker.WindowCount);
        sleeper.Kill();
        sleeper.WaitForExit();

        var exited = Assert.Throws<ProcessAccessException>(() => measured.Clear());
        Assert.Equal(ProcessAccessFailure.Exited, exited.Failure);
        Assert.Contains("after 1 complete window", exited.Message);
        exited = Assert.Throws<ProcessAccessException>(() => measured.Sample());
        Assert.Equal(ProcessAccessFailure.Exited, exited.Failure);
        Assert.Equal(1, measured.Tracker.WindowCount);
    }

    [Fact]
    public void AZombieIsClearedWithoutErrorButItsWindowDoesNotCount()
    {
        // sh starts a short sleep and becomes a long sleep, which never reaps: the short one stays a zombie.
        using Process parent = Process.Start(new ProcessStartInfo("sh", new[] { "-c", "sleep 0.3 & exec sleep 60" }) { UseShellExecute = false })!;
        try
        {
            int child = WaitFor(() => File.ReadAllText($"/proc/{parent.Id}/task/{parent.Id}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).FirstOrDefault());
            using MeasuredProcess measured = MeasuredProcess.Open(child, MappingSelection.All, perMapping: true);
            WaitFor(() => ProcessStat.TryRead(child) is { State: 'Z' } ? 1 : 0);
            measured.Clear();
            var exited = Assert.Throws<ProcessAccessException>(() => measured.Sample());
            Assert.Equal(ProcessAccessFailure.Exited, exited.Failure);
            Assert.Equal(0, measured.Tracker.WindowCount);
        }
        finally
        {
            parent.Kill();
            parent.WaitForExit();
        }
    }

    [Fact]
    public void AnUnknownProcessIsNotFound()
    {
        var e = Assert.Throws<ProcessAccessException>(() => MeasuredProcess.Open(int.MaxValue, MappingSelection.All, perMapping: true));
        Assert.Equal(ProcessAccessFailure.NotFound, e.Failure);
    }

    [Fact]
    public void TheSessionRunsEveryWindowForEveryProcess()
    {
        using Process a = Sleeper();
        using Process b = Sleeper();
        var processes = new List<MeasuredProcess>
        {
            MeasuredProcess.Open(a.Id, MappingSelection.All, perMapping: false),
            MeasuredProcess.Open(b.Id, MappingSelection.All, perMapping: true),
        };
        try
        {
            var observer = new Observer();
            var clock = Stopwatch.StartNew();
            Assert.True(AccessSession.Run(processes, TimeSpan.FromMilliseconds(60), 3, CancellationToken.None, observer));
            Assert.True(clock.ElapsedMilliseconds >= 180);
            Assert.Equal(new[] { 0, 1, 2 }, observer.Completed);
            Assert.True(observer.Waits >= 3);
            Assert.Empty(observer.Failures);
            Assert.All(processes, p => Assert.Equal(3, p.Tracker.WindowCount));
            Assert.True(processes[0].Tracker.Rss > 0);
        }
        finally
        {
            processes.ForEach(p => p.Dispose());
            a.Kill();
            b.Kill();
        }
    }

    [Fact]
    public void AProcessThatExitsDropsOutAndTheOthersGoOn()
    {
        using Process stays = Sleeper();
        using Process leaves = Sleeper();
        var processes = new List<MeasuredProcess>
        {
            MeasuredProcess.Open(leaves.Id, MappingSelection.All, perMapping: true),
            MeasuredProcess.Open(stays.Id, MappingSelection.All, perMapping: true),
        };
        try
        {
            var observer = new Observer();
            observer.OnWait = () =>
            {
                if (!leaves.HasExited)
                {
                    leaves.Kill();
                    leaves.WaitForExit();
                }
            };
            Assert.True(AccessSession.Run(processes, TimeSpan.FromMilliseconds(50), 2, CancellationToken.None, observer));
            var failure = Assert.Single(observer.Failures);
            Assert.Equal(leaves.Id, failure.ProcessId);
            Assert.Equal(ProcessAccessFailure.Exited, Assert.IsType<ProcessAccessException>(failure.Error).Failure);
            MeasuredProcess left = Assert.Single(processes);
            Assert.Equal(stays.Id, left.ProcessId);
            Assert.Equal(2, left.Tracker.WindowCount);
        }
        finally
        {
            processes.ForEach(p => p.Dispose());
            stays.Kill();
        }
    }

    [Fact]
    public void CancellingCutsTheWaitAtOnceAndCountsNoPartWindow()
    {
        using Process sleeper = Sleeper();
        var processes = new List<MeasuredProcess> { MeasuredProcess.Open(sleeper.Id, MappingSelection.All, perMapping: true) };
        try
        {
            using var stop = new CancellationTokenSource();
            var observer = new Observer();
            observer.OnWait = () => stop.CancelAfter(100);
            var clock = Stopwatch.StartNew();
            Assert.False(AccessSession.Run(processes, TimeSpan.FromSeconds(30), 2, stop.Token, observer));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
            Assert.Empty(observer.Completed);
            Assert.Equal(0, processes[0].Tracker.WindowCount);
        }
        finally
        {
            processes.ForEach(p => p.Dispose());
            sleeper.Kill();
        }
    }

    [Fact]
    public void AWindowOfZeroIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => AccessSession.Run(new List<MeasuredProcess>(), TimeSpan.Zero, 1, CancellationToken.None, new Observer()));
    }

    private static int WaitFor(Func<int> probe)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            try
            {
                int value = probe();
                if (value != 0) return value;
            }
            catch (IOException)
            {
            }

            Thread.Sleep(20);
        }

        throw new TimeoutException("The condition was not met within 5 s.");
    }
}
