import './base.css';
import './chatpanel.css';
