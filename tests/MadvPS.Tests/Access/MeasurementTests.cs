using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using MadvPS.Commands;
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
    [Trait("Needs", "Process")]
    public void ClearingDropsReferencedAndTouchingBringsItBack()
    {
        // This process: 8 MiB mapping of its own (a whole VMA, nothing else in it), written,
        // cleared, read, cleared, read again.
        const int size = 8 << 20;
        const int page = 4096;
        IntPtr block = Mmap(size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        Assert.NotEqual(new IntPtr(-1), block);
        try
        {
            unsafe
            {
                byte* p = (byte*)block;
                for (int i = 0; i < size; i += page) p[i] = 1;
                ulong start = (ulong)block;
                using MeasuredProcess self = MeasuredProcess.Open(Environment.ProcessId, MappingSelection.Anonymous, perMapping: true);
                long ReferencedOfBlock() => self.Tracker.Mappings(MappingSelection.Anonymous, TimeSpan.FromSeconds(1))
                    .Where(m => m.Start < start + size && m.End > start).Sum(m => m.Referenced);

                self.Clear();
                FlushTlb(block, size);
                self.Sample();
                long cleared = ReferencedOfBlock();

                self.Clear();
                // clear_refs clears the accessed bits in the page tables but does not flush the TLB
                // (fs/proc/task_mmu.c clear_refs_write flushes only for soft-dirty, value 4): a page
                // whose translation a CPU still caches is read without the MMU setting the bit
                // again. mprotect changes the entries and flushes, as any later context of the
                // kernel's would; without it this test misses a page or two now and then.
                FlushTlb(block, size);
                long sum = 0;
                for (int i = 0; i < size; i += page) sum += p[i];
                self.Sample();
                long touched = ReferencedOfBlock();
                Assert.True(cleared < size / 2, $"cleared: {cleared}");
                Assert.True(touched >= size, $"touched: {touched}");
                Assert.Equal(size / page, sum);
            }
        }
        finally
        {
            Munmap(block, size);
        }
    }

    private const int PROT_READ = 1, PROT_WRITE = 2, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20;

    [System.Runtime.InteropServices.DllImport("libc.so.6", EntryPoint = "mmap", SetLastError = true)]
    private static extern IntPtr Mmap(IntPtr address, nuint length, int prot, int flags, int fd, long offset);

    private static IntPtr Mmap(int length, int prot, int flags, int fd, long offset) => Mmap(IntPtr.Zero, (nuint)length, prot, flags, fd, offset);

    [System.Runtime.InteropServices.DllImport("libc.so.6", EntryPoint = "munmap", SetLastError = true)]
    private static extern int Munmap(IntPtr address, nuint length);

    private static void Munmap(IntPtr address, int length) => Munmap(address, (nuint)length);

    [System.Runtime.InteropServices.DllImport("libc.so.6", EntryPoint = "mprotect", SetLastError = true)]
    private static extern int Mprotect(IntPtr address, nuint length, int prot);

    // Read-only and back: the kernel rewrites each entry (keeping its accessed bit) and flushes the
    // TLB of every CPU that ran this mm.
    private static void FlushTlb(IntPtr address, int length)
    {
        Assert.Equal(0, Mprotect(address, (nuint)length, PROT_READ));
        Assert.Equal(0, Mprotect(address, (nuint)length, PROT_READ | PROT_WRITE));
    }

    [Fact]
    [Trait("Needs", "Process")]
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
        Assert.Equal(ProcessActivity.Measuring, exited.Activity);
        Assert.Equal(1, exited.WindowCount);
        Assert.Contains("exited during the measurement, after 1 complete window", FailureText.Of(exited));
        exited = Assert.Throws<ProcessAccessException>(() => measured.Sample());
        Assert.Equal(ProcessAccessFailure.Exited, exited.Failure);
        Assert.Equal(1, measured.Tracker.WindowCount);
    }

    [Fact]
    [Trait("Needs", "Process")]
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
    [Trait("Needs", "Process")]
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
            // A lower bound only: three windows of 60 ms cannot end sooner, however slow the host.
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
    [Trait("Needs", "Process")]
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
    [Trait("Needs", "Process")]
    public void CancellingCutsTheWaitAtOnceAndCountsNoPartWindow()
    {
        using Process sleeper = Sleeper();
        var processes = new List<MeasuredProcess> { MeasuredProcess.Open(sleeper.Id, MappingSelection.All, perMapping: true) };
        try
        {
            using var stop = new CancellationTokenSource();
            var observer = new Observer();
            observer.OnWait = () => stop.CancelAfter(100);
            // A run that sat out its windows would complete them: Completed would not be empty.
            Assert.False(AccessSession.Run(processes, TimeSpan.FromSeconds(30), 2, stop.Token, observer));
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
