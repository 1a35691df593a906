using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

/// <summary>
/// Every output type crosses remoting (PSSerializer at depth 1, as Invoke-Command sends it) with
/// all its data: numbers stay numbers of the same type, enums arrive as their names and convert
/// back, and the module's views format the Deserialized. form exactly as the live object.
/// </summary>
public class SerializationTests
{
    // The list; the theory below also takes any type a cmdlet declares later.
    private static readonly Type[] s_expected =
    {
        typeof(MemoryMapping), typeof(ProcessMemory), typeof(AdviceResult), typeof(ProcessAdviceResult),
        typeof(MemoryAdviceSupport), typeof(MemoryAdviceEnvironment),
        typeof(MemoryAccess), typeof(ProcessAccess), typeof(FileCache), typeof(FileAdviceResult),
        typeof(MemoryPageRun), typeof(MemoryPageSummary),
        typeof(ReclaimResult), typeof(ReclaimStep),
    };

    public static IEnumerable<object[]> OutputTypes() => DeclaredOutputTypes().Select(t => new object[] { t });

    private static IEnumerable<Type> DeclaredOutputTypes() =>
        typeof(MemoryMapping).Assembly.GetTypes()
            .Where(t => t.GetCustomAttribute<CmdletAttribute>() is not null)
            .SelectMany(t => t.GetCustomAttributes<OutputTypeAttribute>())
            .SelectMany(a => a.Type)
            .Select(n => n.Type)
            // The module's own types; Export-MemoryMap's FileInfo (-PassThru) is PowerShell's.
            .Where(t => t.Assembly == typeof(MemoryMapping).Assembly)
            .Distinct();

    [Fact]
    public void EveryCmdletDeclaresItsOutputTypes()
    {
        Assert.Equal(s_expected.OrderBy(t => t.Name), DeclaredOutputTypes().OrderBy(t => t.Name));
    }

    [Theory]
    [MemberData(nameof(OutputTypes))]
    public void RoundTripsAtDepthOneWithEveryValue(Type type)
    {
        object live = Sample(type);
        PSObject back = RoundTrip(live);

        Assert.Equal("Deserialized." + type.FullName, back.TypeNames[0]);
        foreach (PropertyInfo property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            object? expected = property.GetValue(live);
            PSPropertyInfo? arrived = back.Properties[property.Name];
            Assert.True(arrived is not null, $"{type.Name}.{property.Name} did not arrive.");
            object? value = arrived!.Value;
            Type propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (propertyType.IsEnum)
            {
                // An enum arrives as its name ("Read, Write"), which converts back when it is bound.
                Assert.Equal(expected!.ToString(), Assert.IsType<string>(value));
                Assert.Equal(expected, LanguagePrimitives.ConvertTo(value, propertyType));
            }
            else if (propertyType.IsArray)
            {
                // A list of numbers (the per-window figures) arrives as a list of the same numbers.
                var items = Assert.IsAssignableFrom<System.Collections.IEnumerable>(value is PSObject wrapped ? wrapped.BaseObject : value);
                Assert.Equal(((System.Collections.IEnumerable)expected!).Cast<object>(), items.Cast<object>().Select(o => o is PSObject p ? p.BaseObject : o));
            }
            else
            {
                Assert.True(expected!.GetType() == value?.GetType(), $"{type.Name}.{property.Name} is {expected.GetType()} but arrived as {value?.GetType()}.");
                Assert.Equal(expected, value);
            }
        }
    }

    [Fact]
    public void AMappingWithoutProtectionKeyArrivesWithNone()
    {
        var mapping = (MemoryMapping)Sample(typeof(MemoryMapping));
        mapping.ProtectionKey = null;
        mapping.VmFlags = VmFlags.None;
        PSObject back = RoundTrip(mapping);
        Assert.Null(back.Properties["ProtectionKey"].Value);
        Assert.Equal("None", back.Properties["VmFlags"].Value);
    }

    [Fact]
    public void APathThatIsNotUtf8ArrivesWithItsBytes()
    {
        // A name with the bytes 0x80 and 0xff, as the module holds it (U+DC00+b, FileNameBytes).
        byte[] bytes = Convert.FromHexString("2f746d702f6180ff62");
        var mapping = (MemoryMapping)Sample(typeof(MemoryMapping));
        mapping.Path = FileNameBytes.Decode(bytes);
        PSObject back = RoundTrip(mapping);
        string path = Assert.IsType<string>(back.Properties["Path"].Value);
        Assert.Equal(bytes.Append((byte)0).ToArray(), FileNameBytes.ToNulTerminated(path));
    }

    [Theory]
    [MemberData(nameof(OutputTypes))]
    public void TheViewsFormatTheDeserializedFormAsTheLiveObject(Type type)
    {
        object live = Sample(type);
        PSObject back = RoundTrip(live);

        using Runspace runspace = ModuleRunspace();
        using PowerShell ps = PowerShell.Create(runspace);
        ps.AddScript("""
            param($live, $back, $typeName)
            foreach ($name in $typeName, "Deserialized.$typeName") {
                $views = @((Get-FormatData -TypeName $name).FormatViewDefinition)
                if (-not $views) { throw "No view is selected for $name." }
            }
            # The first view is the one Out-Default uses; its labels must show.
            $control = $views[0].Control
            $labels = if ($control -is [System.Management.Automation.TableControl]) { $control.Headers.Label } else { $control.Entries.Items.Label }
            [pscustomobject]@{
                Labels    = @($labels | Where-Object { $_ })
                LiveOut   = $live | Out-String -Width 400
                BackOut   = $back | Out-String -Width 400
                LiveTable = $live | Format-Table -DisplayError | Out-String -Width 400
                BackTable = $back | Format-Table -DisplayError | Out-String -Width 400
                LiveList  = $live | Format-List -DisplayError | Out-String -Width 400
                BackList  = $back | Format-List -DisplayError | Out-String -Width 400
            }
            """).AddArgument(live).AddArgument(back).AddArgument(type.FullName);
        Collection<PSObject> output = ps.Invoke();
        Assert.False(ps.HadErrors, string.Join(Environment.NewLine, ps.Streams.Error));
        PSObject result = Assert.Single(output);

        string Text(string name) => LanguagePrimitives.ConvertTo<string>(result.Properties[name].Value);
        Assert.Equal(Text("LiveOut"), Text("BackOut"));
        Assert.Equal(Text("LiveTable"), Text("BackTable"));
        Assert.Equal(Text("LiveList"), Text("BackList"));
        Assert.DoesNotContain("#ERR", Text("LiveTable") + Text("LiveList"));
        string[] labels = LanguagePrimitives.ConvertTo<string[]>(result.Properties["Labels"].Value);
        Assert.NotEmpty(labels);
        foreach (string label in labels)
        {
            Assert.Contains(label, Text("LiveOut"));
        }
    }

    [Fact]
    public void TheMappingViewShowsAddressesInHexAndSizesInUnitsAfterRemoting()
    {
        var mapping = (MemoryMapping)Sample(typeof(MemoryMapping));
        mapping.Start = 0x7f12_3456_7000;
        mapping.Size = 3 << 20;
        PSObject back = RoundTrip(mapping);

        using Runspace runspace = ModuleRunspace();
        using PowerShell ps = PowerShell.Create(runspace);
        // The default table leaves addresses out to fit 80 columns; the Address table has them.
        ps.AddScript("param($back) $back | Format-Table | Out-String -Width 400; $back | Format-Table -View Address | Out-String -Width 400").AddArgument(back);
        var tables = ps.Invoke();
        string table = (string)tables[0].BaseObject;
        string addresses = (string)tables[1].BaseObject;
        Assert.Contains("3 MiB", table);
        Assert.Contains("Perm", table);
        Assert.Contains("7f1234567000", addresses);
        Assert.Contains("3 MiB", addresses);
    }

    private static PSObject RoundTrip(object live) =>
        Assert.IsType<PSObject>(PSSerializer.Deserialize(PSSerializer.Serialize(live, 1)));

    // A runspace with the module's types and views, as Import-Module MadvPS gives them.
    private static Runspace ModuleRunspace()
    {
        string source = Path.Combine(RepositoryRoot(), "src", "MadvPS");
        InitialSessionState state = InitialSessionState.CreateDefault2();
        state.Formats.Add(new SessionStateFormatEntry(Path.Combine(source, "MadvPS.Format.ps1xml")));
        state.Types.Add(new SessionStateTypeEntry(Path.Combine(source, "MadvPS.Types.ps1xml")));
        Runspace runspace = RunspaceFactory.CreateRunspace(state);
        runspace.Open();
        return runspace;
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "MadvPS.psd1")))
            {
                return d.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No MadvPS.psd1 above {AppContext.BaseDirectory}.");
    }

    /// <summary>
    /// An instance with every property set to a value unlike its default and hard to carry:
    /// ulongs above long.MaxValue (the [vsyscall] address is one), longs above int.MaxValue,
    /// strings with quotes and XML, flags with several bits. A property of any other type fails
    /// the test: output types stay flat.
    /// </summary>
    private static object Sample(Type type)
    {
        object instance = Activator.CreateInstance(type)!;
        int i = 0;
        foreach (PropertyInfo property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            i++;
            Type t = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            object value = t switch
            {
                _ when t == typeof(int) => 1000 + i,
                _ when t == typeof(long) => 5_000_000_000L + i,
                _ when t == typeof(ulong) => 0xffff_ffff_ff60_0000UL + (ulong)i,
                _ when t == typeof(bool) => true,
                _ when t == typeof(double) => 12.5 + i,
                _ when t == typeof(long[]) => new[] { 5_000_000_000L + i, 0L, 4096L },
                _ when t == typeof(string) => $"{property.Name} \"value\" <&> {i}",
                _ when t == typeof(TimeSpan) => TimeSpan.FromTicks(12_345_678 + i),
                _ when t.IsEnum && t.IsDefined(typeof(FlagsAttribute)) => FlagsSample(t),
                _ when t.IsEnum => Enum.GetValues(t).Cast<object>().Last(),
                _ => throw new InvalidOperationException($"{type.Name}.{property.Name} is a {t}: output types hold only numbers (and lists of them), strings, bools, enums and TimeSpans, so that they survive remoting and CSV."),
            };
            property.SetValue(instance, value);
        }

        return instance;
    }

    private static object FlagsSample(Type t)
    {
        ulong bits = Enum.GetValues(t).Cast<object>().Select(Convert.ToUInt64).Where(v => v != 0).Take(3).Aggregate(0UL, (a, v) => a | v);
        bits |= Enum.GetValues(t).Cast<object>().Select(Convert.ToUInt64).Max();
        return Enum.ToObject(t, bits);
    }
}
