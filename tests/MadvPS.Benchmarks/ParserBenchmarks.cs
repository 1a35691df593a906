using System;
using System.IO;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using MadvPS.Core;

namespace MadvPS.Benchmarks;

/// <summary>
/// The parser's managed allocation over captured smaps text (MADVPS_BENCH_SMAPS names the file;
/// build.ps1 Bench captures the 60,000-mapping target's), without the kernel: entries alone, and
/// entries made into MemoryMapping objects as Get-MemoryMapping does.
/// </summary>
[Config(typeof(ParserBenchmarks.Config))]
public class ParserBenchmarks
{
    // In this process (no generated project to build), one parse of the whole text per
    // iteration: allocation per operation is what one Get-MemoryMapping of the process costs.
    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(Job.Default
                .WithToolchain(InProcessEmitToolchain.Instance)
                .WithStrategy(RunStrategy.Monitoring)
                .WithLaunchCount(1)
                .WithWarmupCount(1)
                .WithIterationCount(5));
            AddDiagnoser(MemoryDiagnoser.Default);
            AddExporter(JsonExporter.Full);
        }
    }

    private byte[] _text = Array.Empty<byte>();
    private ProcessStat _process;

    [GlobalSetup]
    public void Setup()
    {
        string? path = Environment.GetEnvironmentVariable("MADVPS_BENCH_SMAPS");
        _text = File.ReadAllBytes(string.IsNullOrEmpty(path) ? "/proc/self/smaps" : path);
        _process = MappingReader.Describe(Environment.ProcessId);
    }

    [Benchmark]
    public int Entries()
    {
        var parser = new SmapsParser(new MemoryStream(_text, writable: false));
        int count = 0;
        while (parser.TryReadEntry(out _))
        {
            count++;
        }

        return count;
    }

    [Benchmark]
    public int Mappings()
    {
        var parser = new SmapsParser(new MemoryStream(_text, writable: false));
        int count = 0;
        while (parser.TryReadEntry(out SmapsEntry entry))
        {
            MemoryMapping mapping = MappingReader.ToMapping(entry, _process, "bench", "boot");
            count += mapping.Size > 0 ? 1 : 0;
        }

        return count;
    }
}
