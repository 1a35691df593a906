@{
    RootModule           = 'MadvPS.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '6a0f8d52-3c1e-4d7b-9b7e-2f3d5a1c8e47'
    Author               = 'MadvPS contributors'
    CompanyName          = 'MadvPS'
    Copyright            = '(c) MadvPS contributors. MIT License.'
    Description          = 'Inspect and advise the memory of running Linux processes: /proc/PID/smaps as typed objects, and process_madvise(2) (PageOut, Cold, WillNeed, Collapse...) from the pipeline.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    CmdletsToExport      = @('Get-MemoryMapping', 'Invoke-MemoryAdvice', 'Set-ProcessMadvise', 'Get-MemoryAdviceSupport', 'Measure-MemoryAccess', 'Get-FileCache', 'Invoke-FileAdvice', 'Export-MemoryMap')
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
