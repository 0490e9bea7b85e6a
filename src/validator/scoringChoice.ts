/**
 * Which scoring the validator runs, and why: the preset (default: what the live Subnet 58
 * validators compute), its EMA α and the version key sent with weights (default: the preset's
 * Python spec_version), each with where it came from, for the start-up log and /status.
 */
import { describeSource, type Source } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { DEFAULT_PRESET, DEFAULT_PRESET_REASON, getPreset, type PresetName, type ScoringPreset, type SynapseName } from '../scoring/presets.js';

type ScoringOptions = 'scoring.preset' | 'neuron.moving_average_alpha' | 'neuron.weights_version';

export interface ScoringChoice {
  preset: ScoringPreset;
  presetReason: string;
  alphaSource: string;
  versionKey: bigint;
  versionKeySource: string;
}

/** What /status shows of the choice (JSON-safe). */
export interface ScoringSummary {
  preset: PresetName;
  presetReason: string;
  pythonGeneration: string;
  formula: string;
  alpha: number;
  alphaSource: string;
  versionKey: string;
  versionKeySource: string;
  synapses: SynapseName[];
}

export function chooseScoring(config: Pick<Config, ScoringOptions>, sources: Record<ScoringOptions, Source>): ScoringChoice {
  const explicitPreset = config['scoring.preset'];
  const preset = getPreset(explicitPreset ?? DEFAULT_PRESET, { alpha: config['neuron.moving_average_alpha'] });
  const presetReason = explicitPreset === null ? DEFAULT_PRESET_REASON : `set by ${describeSource('scoring.preset', sources['scoring.preset'])}`;
  const alphaSource =
    config['neuron.moving_average_alpha'] === null
      ? `the ${preset.name} preset's`
      : `set by ${describeSource('neuron.moving_average_alpha', sources['neuron.moving_average_alpha'])}`;
  const configuredKey = config['neuron.weights_version'];
  return {
    preset,
    presetReason,
    alphaSource,
    versionKey: BigInt(configuredKey ?? preset.versionKey),
    versionKeySource:
      configuredKey === null
        ? `the ${preset.name} preset's (${preset.versionKeyRelease} spec_version)`
        : `set by ${describeSource('neuron.weights_version', sources['neuron.weights_version'])}`,
  };
}

export function summarizeScoring(choice: ScoringChoice): ScoringSummary {
  const { preset } = choice;
  return {
    preset: preset.name,
    presetReason: choice.presetReason,
    pythonGeneration: preset.pythonGeneration,
    formula: preset.formula,
    alpha: preset.alpha,
    alphaSource: choice.alphaSource,
    versionKey: choice.versionKey.toString(),
    versionKeySource: choice.versionKeySource,
    synapses: [...preset.synapses],
  };
}
