using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Xml;

namespace MadvPS.HelpBuilder;

/// <summary>
/// Writes MAML as Get-Help reads it, in the element order PlatyPS writes: command:command with
/// details, description, syntax, parameters, inputTypes, returnValues, alertSet, examples, relatedLinks.
/// </summary>
internal static class MamlWriter
{
    private const string Msh = "http://msh";
    private const string Maml = "http://schemas.microsoft.com/maml/2004/10";
    private const string Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private const string Dev = "http://schemas.microsoft.com/maml/dev/2004/10";
    private const string MsHelp = "http://msdn.microsoft.com/mshelp";

    public static void Write(string path, IEnumerable<CommandHelp> commands)
    {
        var settings = new XmlWriterSettings
        {
            Indent = true,
            IndentChars = "  ",
            NewLineChars = "\n",
            Encoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
        };
        using var stream = File.Create(path);
        using (XmlWriter xml = XmlWriter.Create(stream, settings))
        {
            xml.WriteStartDocument();
            xml.WriteStartElement("helpItems", Msh);
            xml.WriteAttributeString("schema", "maml");
            foreach (CommandHelp command in commands)
            {
                WriteCommand(xml, command);
            }

            xml.WriteEndElement();
            xml.WriteEndDocument();
        }

        stream.WriteByte((byte)'\n');
    }

    private static void WriteCommand(XmlWriter xml, CommandHelp command)
    {
        xml.WriteStartElement("command", "command", Command);
        xml.WriteAttributeString("xmlns", "maml", null, Maml);
        xml.WriteAttributeString("xmlns", "command", null, Command);
        xml.WriteAttributeString("xmlns", "dev", null, Dev);
        xml.WriteAttributeString("xmlns", "MSHelp", null, MsHelp);

        xml.WriteStartElement("command", "details", Command);
        xml.WriteElementString("command", "name", Command, command.Name);
        int dash = command.Name.IndexOf('-');
        xml.WriteElementString("command", "verb", Command, dash < 0 ? command.Name : command.Name[..dash]);
        xml.WriteElementString("command", "noun", Command, dash < 0 ? "" : command.Name[(dash + 1)..]);
        Paragraphs(xml, "maml", "description", Maml, command.Synopsis);
        xml.WriteEndElement();

        Paragraphs(xml, "maml", "description", Maml, command.Description);

        xml.WriteStartElement("command", "syntax", Command);
        foreach (SyntaxSet set in command.Syntax)
        {
            xml.WriteStartElement("command", "syntaxItem", Command);
            xml.WriteElementString("maml", "name", Maml, command.Name);
            foreach (string name in set.ParameterNames)
            {
                ParameterHelp parameter = command.Parameters.FirstOrDefault(p => p.Name == name)
                    ?? throw new HelpFormatException(command.Name, $"shows -{name} in the syntax of set {set.Name}, but PARAMETERS has no '### -{name}'.");
                ParameterMetadata metadata = parameter.Metadata.FirstOrDefault(m => m.AppliesTo(set.Name))
                    ?? throw new HelpFormatException(command.Name, $"shows -{name} in the syntax of set {set.Name}, but no yaml block of -{name} names that set.");
                Parameter(xml, parameter, metadata, inSyntax: true);
            }

            xml.WriteEndElement();
        }

        xml.WriteEndElement();

        xml.WriteStartElement("command", "parameters", Command);
        foreach (ParameterHelp parameter in command.Parameters)
        {
            Parameter(xml, parameter, parameter.Metadata[0], inSyntax: false);
        }

        xml.WriteEndElement();

        Types(xml, "inputTypes", "inputType", command.Inputs);
        Types(xml, "returnValues", "returnValue", command.Outputs);

        xml.WriteStartElement("maml", "alertSet", Maml);
        Paragraphs(xml, "maml", "alert", Maml, command.Notes);
        xml.WriteEndElement();

        xml.WriteStartElement("command", "examples", Command);
        foreach (ExampleHelp example in command.Examples)
        {
            xml.WriteStartElement("command", "example", Command);
            xml.WriteElementString("maml", "title", Maml, example.Title);
            xml.WriteElementString("dev", "code", Dev, example.Code);
            Paragraphs(xml, "dev", "remarks", Dev, example.Remarks);
            xml.WriteEndElement();
        }

        xml.WriteEndElement();

        xml.WriteStartElement("command", "relatedLinks", Command);
        foreach (LinkHelp link in command.Links)
        {
            xml.WriteStartElement("maml", "navigationLink", Maml);
            xml.WriteElementString("maml", "linkText", Maml, link.Text);
            xml.WriteElementString("maml", "uri", Maml, link.Uri);
            xml.WriteEndElement();
        }

        xml.WriteEndElement();
        xml.WriteEndElement();
    }

    private static void Parameter(XmlWriter xml, ParameterHelp parameter, ParameterMetadata metadata, bool inSyntax)
    {
        bool isSwitch = metadata.Type is "SwitchParameter" or "Switch";
        xml.WriteStartElement("command", "parameter", Command);
        xml.WriteAttributeString("required", metadata.Required ? "true" : "false");
        xml.WriteAttributeString("variableLength", "true");
        xml.WriteAttributeString("globbing", metadata.Wildcards ? "true" : "false");
        xml.WriteAttributeString("pipelineInput", metadata.PipelineInput);
        xml.WriteAttributeString("position", metadata.Position.ToLowerInvariant());
        xml.WriteAttributeString("aliases", metadata.Aliases.Count > 0 ? string.Join(", ", metadata.Aliases) : "none");
        xml.WriteElementString("maml", "name", Maml, parameter.Name);
        Paragraphs(xml, "maml", "description", Maml, parameter.Description);
        if (inSyntax && metadata.AcceptedValues.Count > 0)
        {
            xml.WriteStartElement("command", "parameterValueGroup", Command);
            foreach (string value in metadata.AcceptedValues)
            {
                xml.WriteStartElement("command", "parameterValue", Command);
                xml.WriteAttributeString("required", "false");
                xml.WriteAttributeString("variableLength", "false");
                xml.WriteString(value);
                xml.WriteEndElement();
            }

            xml.WriteEndElement();
        }

        // As PlatyPS does: a switch shows no value in the syntax.
        if (!inSyntax || !isSwitch)
        {
            xml.WriteStartElement("command", "parameterValue", Command);
            xml.WriteAttributeString("required", isSwitch ? "false" : "true");
            xml.WriteAttributeString("variableLength", "false");
            xml.WriteString(isSwitch ? "SwitchParameter" : metadata.Type);
            xml.WriteEndElement();
        }

        xml.WriteStartElement("dev", "type", Dev);
        xml.WriteElementString("maml", "name", Maml, isSwitch ? "SwitchParameter" : metadata.Type);
        xml.WriteElementString("maml", "uri", Maml, "");
        xml.WriteEndElement();
        xml.WriteElementString("dev", "defaultValue", Dev, metadata.DefaultValue);
        xml.WriteEndElement();
    }

    private static void Types(XmlWriter xml, string outer, string inner, List<TypeHelp> types)
    {
        xml.WriteStartElement("command", outer, Command);
        foreach (TypeHelp type in types)
        {
            xml.WriteStartElement("command", inner, Command);
            xml.WriteStartElement("dev", "type", Dev);
            xml.WriteElementString("maml", "name", Maml, type.TypeName);
            xml.WriteEndElement();
            Paragraphs(xml, "maml", "description", Maml, type.Description);
            xml.WriteEndElement();
        }

        xml.WriteEndElement();
    }

    private static void Paragraphs(XmlWriter xml, string prefix, string name, string ns, List<string> paragraphs)
    {
        xml.WriteStartElement(prefix, name, ns);
        foreach (string paragraph in paragraphs)
        {
            xml.WriteElementString("maml", "para", Maml, paragraph);
        }

        xml.WriteEndElement();
    }
}
