using System;
using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace MadvPS.Commands;

/// <summary>
/// Sizes for people: a number of bytes as the views show it (96 MiB), or calculated properties
/// that show size properties so in one's own Format-Table and Select-Object. It takes numbers,
/// so it works the same on live objects, Deserialized ones from remoting and rows of Import-Csv;
/// the objects keep their numbers.
/// </summary>
[Cmdlet(VerbsCommon.Format, "MemorySize", DefaultParameterSetName = BytesSet)]
[OutputType(typeof(string), ParameterSetName = new[] { BytesSet })]
[OutputType(typeof(Hashtable), ParameterSetName = new[] { PropertySet })]
public sealed class FormatMemorySizeCommand : PSCmdlet
{
    private const string BytesSet = "Bytes";
    private const string PropertySet = "Property";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = BytesSet)]
    public long[] Bytes { get; set; } = Array.Empty<long>();

    /// <summary>Names of size properties: one calculated property (Name, Expression) each.</summary>
    [Parameter(Mandatory = true, ParameterSetName = PropertySet)]
    [ValidateNotNullOrEmpty]
    public string[] Property { get; set; } = Array.Empty<string>();

    protected override void ProcessRecord()
    {
        if (ParameterSetName == BytesSet)
        {
            foreach (long bytes in Bytes)
            {
                WriteObject(Display.Bytes(bytes));
            }

            return;
        }

        foreach (string name in Property)
        {
            string member = "'" + CodeGeneration.EscapeSingleQuotedStringContent(name) + "'";
            // A missing or null value (FileCache.Dirty before Linux 6.5) shows as '-', as in the views.
            ScriptBlock expression = ScriptBlock.Create(
                $"if ($null -eq $_.{member} -or '' -eq $_.{member}) {{ '-' }} else {{ [MadvPS.Display]::Bytes($_.{member}) }}");
            WriteObject(new Hashtable { ["Name"] = name, ["Expression"] = expression });
        }
    }
}
