using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

public class OrderedWindowTests
{
    // Adds the producers as Get-MemoryMapping does: add, and write the oldest while the window is full.
    private static List<int> Run(int width, IEnumerable<OrderedWindow<int>.Producer> producers, int capacity = 1024)
    {
        var output = new List<int>();
        using var window = new OrderedWindow<int>(width, capacity);
        foreach (OrderedWindow<int>.Producer producer in producers)
        {
            window.Add(producer);
            while (window.IsFull)
            {
                window.ConsumeOldest(output.Add);
            }
        }

        window.ConsumeAll(output.Add);
        return output;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void WritesEveryItemInTheOrderTheProducersWereAdded(int width)
    {
        // Producer i writes i*1000 .. i*1000+count-1; later ones finish first (the first sleeps).
        int[] counts = { 3000, 1, 0, 2500, 7, 1200, 5, 0, 900, 64 };
        var producers = counts.Select((count, i) => (OrderedWindow<int>.Producer)((emit, alone, cancel) =>
        {
            if (i % 3 == 0) Thread.Sleep(20);
            for (int k = 0; k < count; k++) emit(i * 10_000 + k);
        }));

        List<int> output = Run(width, producers);

        int[] expected = counts.SelectMany((count, i) => Enumerable.Range(i * 10_000, count)).ToArray();
        Assert.Equal(expected, output);
    }

    [Fact]
    public void RunsTheProducersBehindTheOldestAtTheSameTime()
    {
        // The second and third meet at a barrier: they can only pass it if both run at once.
        using var barrier = new Barrier(2);
        bool met = false;
        var producers = new OrderedWindow<int>.Producer[]
        {
            (emit, alone, cancel) => emit(1),
            (emit, alone, cancel) => { met = barrier.SignalAndWait(TimeSpan.FromSeconds(30)); emit(2); },
            (emit, alone, cancel) => { barrier.SignalAndWait(TimeSpan.FromSeconds(30)); emit(3); },
        };

        Assert.Equal(new[] { 1, 2, 3 }, Run(3, producers));
        Assert.True(met);
    }

    [Fact]
    public void TheFirstProducerRunsOnTheConsumersThreadAndAloneWhenNothingElseRuns()
    {
        int consumerThread = Environment.CurrentManagedThreadId;
        var seen = new List<(int Thread, bool Alone)>();
        Run(2, new OrderedWindow<int>.Producer[] { (emit, alone, cancel) => seen.Add((Environment.CurrentManagedThreadId, alone)) });
        Assert.Equal(new[] { (consumerThread, true) }, seen);
    }

    [Fact]
    public void AProducerFarAheadWaitsForRoom()
    {
        const int capacity = 16;
        int produced = 0, consumed = 0, mostAhead = 0;
        using var window = new OrderedWindow<int>(2, capacity);
        window.Add((emit, alone, cancel) => { });
        window.Add((emit, alone, cancel) =>
        {
            for (int k = 0; k < 5000; k++)
            {
                emit(k);
                int ahead = Interlocked.Increment(ref produced) - Volatile.Read(ref consumed);
                if (ahead > mostAhead) mostAhead = ahead;
            }
        });

        window.ConsumeAll(_ => Interlocked.Increment(ref consumed));

        Assert.Equal(5000, consumed);
        // The channel holds at most capacity; one more can be between emit and the count.
        Assert.InRange(mostAhead, 1, capacity + 1);
    }

    [Fact]
    public void AFailingProducerFailsAfterTheItemsBeforeIt()
    {
        var output = new List<int>();
        using var window = new OrderedWindow<int>(2);
        window.Add((emit, alone, cancel) => emit(1));
        window.Add((emit, alone, cancel) => { emit(2); throw new InvalidOperationException("bug"); });
        window.ConsumeOldest(output.Add);
        Assert.Throws<InvalidOperationException>(() => window.ConsumeOldest(output.Add));
        Assert.Equal(new[] { 1, 2 }, output);
    }

    [Fact]
    public void DisposeStopsAProducerThatIsStillWriting()
    {
        bool stopped = false;
        var window = new OrderedWindow<int>(2, capacity: 4);
        window.Add((emit, alone, cancel) => { });
        window.Add((emit, alone, cancel) =>
        {
            try
            {
                for (int k = 0; ; k++) emit(k);
            }
            catch (OperationCanceledException)
            {
                stopped = true;
                throw;
            }
        });

        window.ConsumeOldest(_ => { });
        window.Dispose();

        // Dispose waits for the producer, so it has seen the cancellation by now.
        Assert.True(stopped);
    }
}
