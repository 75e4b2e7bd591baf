// The generator's version, in one place: the default image tag and the header of
// kustomization.yaml come from here, so a release bumps package.json and nothing else.
import pkg from "../package.json" with { type: "json" };

export const GENERATOR_VERSION: string = pkg.version;
export const DEFAULT_IMAGE_REPOSITORY = "ghcr.io/vpccni/vpccni";
export const DEFAULT_IMAGE = `${DEFAULT_IMAGE_REPOSITORY}:${GENERATOR_VERSION}`;
export const DEFAULT_NAMESPACE = "vpccni-system";
