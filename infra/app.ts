import { createTrackerApp } from './tracker-app.ts';

createTrackerApp().app.synth();
