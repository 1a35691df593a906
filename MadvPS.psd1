@{
    RootModule           = 'MadvPS.dll'
    # build.ps1 Build writes VersionPrefix from Directory.Build.props here, in out/MadvPS/MadvPS.psd1.
    ModuleVersion        = '0.0.0'
    GUID                 = '6a0f8d52-3c1e-4d7b-9b7e-2f3d5a1c8e47'
    Author               = 'MadvPS contributors'
    CompanyName          = 'MadvPS'
    Copyright            = '(c) MadvPS contributors. MIT License.'
    Description          = 'Inspect and advise the memory of running Linux processes: /proc/PID/smaps as typed objects, and process_madvise(2) (PageOut, Cold, WillNeed, Collapse...) from the pipeline.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    CmdletsToExport      = @('Get-MemoryMapping', 'Invoke-MemoryAdvice', 'Set-ProcessMadvise', 'Get-MemoryAdviceSupport', 'Measure-MemoryAccess', 'Get-FileCache', 'Invoke-FileAdvice', 'Get-MemoryPage', 'Format-MemorySize', 'Invoke-MemoryReclaim', 'Export-MemoryMap')
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    FormatsToProcess     = @('MadvPS.Format.ps1xml')
    TypesToProcess       = @('MadvPS.Types.ps1xml')
    PrivateData          = @{
        PSData = @{
            Tags       = @('Linux', 'PSEdition_Core', 'memory', 'madvise', 'process_madvise', 'smaps', 'reclaim', 'cachestat', 'fadvise', 'pagecache')
            LicenseUri = 'https://opensource.org/licenses/MIT'
        }
    }
}
