#!/usr/bin/env bash
# Restores the Bicep CLI from NuGet (package Azure.Bicep.CommandLine.<rid>, which carries the self-contained
# `bicep` binary) into a cache outside the repo, and prints the binary's path on stdout (everything else goes to
# stderr). Needs only the .NET SDK: `dotnet restore` of a throwaway project holding a PackageDownload.
#
#   PATH="$(dirname "$(bin/install-bicep.sh)"):$PATH"
#
# BICEP_VERSION (default 0.49.2) and CCP_BICEP_DIR (default ~/.cache/ccp-poller/bicep) override the defaults.
set -euo pipefail

version="${BICEP_VERSION:-0.49.2}"
cache="${CCP_BICEP_DIR:-${HOME}/.cache/ccp-poller/bicep}"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) rid=linux-x64 ;;
  Linux-aarch64 | Linux-arm64) rid=linux-arm64 ;;
  Darwin-x86_64) rid=osx-x64 ;;
  Darwin-arm64) rid=osx-arm64 ;;
  *)
    echo "install-bicep: no Bicep CLI package for $(uname -s) $(uname -m); install Bicep with 'az bicep install'" >&2
    exit 1
    ;;
esac
package="Azure.Bicep.CommandLine.${rid}"
package_dir="${cache}/packages/$(echo "$package" | tr '[:upper:]' '[:lower:]')/${version}"

find_binary() {
  [ -d "$package_dir" ] || return 0
  find "$package_dir" -type f -name bicep | head -n 1
}

binary="$(find_binary)"
if [ -z "$binary" ]; then
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "install-bicep: dotnet is not installed; install the .NET SDK, or install Bicep with 'az bicep install'" >&2
    exit 1
  fi
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
  sdk_major="$(dotnet --version | cut -d. -f1)"
  project_dir="${cache}/restore"
  mkdir -p "$project_dir"
  # Target the SDK's own framework so restore needs no reference pack besides the package itself.
  cat >"${project_dir}/bicep-restore.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net${sdk_major}.0</TargetFramework>
  </PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="${package}" Version="[${version}]" />
  </ItemGroup>
</Project>
EOF
  echo "install-bicep: restoring ${package} ${version} into ${cache}/packages" >&2
  dotnet restore "${project_dir}/bicep-restore.csproj" --packages "${cache}/packages" --verbosity quiet >&2
  binary="$(find_binary)"
  if [ -z "$binary" ]; then
    echo "install-bicep: ${package} ${version} restored, but it holds no 'bicep' binary under ${package_dir}" >&2
    exit 1
  fi
fi

# NuGet extracts files without their execute bit.
[ -x "$binary" ] || chmod +x "$binary"
echo "$binary"
